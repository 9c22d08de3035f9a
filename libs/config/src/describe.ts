import { isSecretKey, maskSecrets, maskText, maskValue } from '@pdr/logging';
import { ENV_VARS } from './load';
import type { ConfigSource, EffectiveConfig } from './schema';

export interface DescribeOptions {
  /** Extra lines after the model name, e.g. [['Execution mode', 'Parallel'], ['Worker processes', '4']]. */
  header?: ReadonlyArray<readonly [string, string]>;
  /** Environment shown in the "Environment Variables" block; default process.env. */
  env?: NodeJS.ProcessEnv;
}

function show(key: string, value: unknown): string {
  if (isSecretKey(key)) return maskValue(value);
  if (value === undefined || value === null) return '(not set)';
  if (typeof value === 'string') return value === '' || /[\r\n\t]|^\s|\s$/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(maskSecrets(value));
}

function line(key: string, value: unknown, source: ConfigSource | undefined): string {
  return `${key}: ${show(key, value)}${source ? `  [${source}]` : ''}`;
}

/**
 * The `pdr run --dry-run` text (pdr_run SPEC §1.4, improved): model name, environment variables,
 * model parameters, then every other section sorted by name — each value with its source
 * ([flag], [env], [file], [default]). Secrets print as *** or (not set); the whole text passes
 * through the masking of @pdr/logging as well. Unlike pdr_run this shows the EFFECTIVE config.
 */
export function describeConfig(
  config: EffectiveConfig,
  sources: Record<string, ConfigSource>,
  opts: DescribeOptions = {},
): string {
  const env = opts.env ?? process.env;
  const out: string[] = ['=== PDR RUN CONFIGURATION ==='];
  out.push(line('Model name', config.pdr.model_name, sources['pdr.model_name']));
  for (const [k, v] of opts.header ?? []) out.push(`${k}: ${v}`);

  out.push('--- Environment Variables ---');
  for (const name of [...new Set(ENV_VARS.map((e) => e.name)), 'PDR_LOG_LEVEL', 'PDR_LOG_FORMAT']) {
    const v = env[name];
    out.push(`${name}: ${v === undefined || v === '' ? 'Not set' : isSecretKey(name) ? maskValue(v) : v}`);
  }

  out.push('--- Model Parameters ---');
  const mp = config.model_parameters as unknown as Record<string, unknown>;
  for (const key of Object.keys(mp).sort()) out.push(line(key, mp[key], sources[`model_parameters.${key}`]));

  out.push('--- Additional Configuration ---');
  const sections = (Object.keys(config) as Array<keyof EffectiveConfig>)
    .filter((s) => s !== 'model_parameters' && config[s] !== null && typeof config[s] === 'object')
    .sort();
  for (const section of sections) {
    out.push(`[${section}]`);
    const values = config[section] as unknown as Record<string, unknown>;
    const keys = new Set([
      ...Object.keys(values),
      ...Object.keys(sources)
        .filter((k) => k.startsWith(`${section}.`))
        .map((k) => k.slice(section.length + 1)),
    ]);
    if (keys.size === 0) out.push('  (none)');
    for (const key of [...keys].sort()) out.push(`  ${line(key, values[key], sources[`${section}.${key}`])}`);
  }
  for (const key of ['diagnostics_output_path', 'log_dir'] as const) {
    out.push(line(key, config[key], sources[key]));
  }
  out.push('=== END CONFIGURATION ===');
  return out.map(maskText).join('\n') + '\n';
}
