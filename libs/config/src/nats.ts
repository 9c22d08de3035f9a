import { ConfigError } from './errors';
import { ENV_VARS, loadConfig, sectionFromEnv } from './load';
import type { ConfigSource, NatsConfig } from './schema';

export interface NatsSettingsOptions {
  /** Optional config file whose `nats` section is merged (below the environment). */
  file?: string;
  cwd?: string;
}

/** The PDR_NATS_* variables (PDR_NATS_PREFIX, the namespace, belongs to @pdr/contracts). */
export const NATS_ENV_VARS = ENV_VARS.filter((e) => e.key.startsWith('nats.'));

/**
 * NATS connection settings for a service or the CLI: defaults < config file `nats` section < PDR_NATS_*
 * variables. Without a file only the PDR_NATS_* variables are read (a runner is not failed by a bad
 * PDR_DB_PORT it never uses). Relative file paths are resolved against `cwd`. Password and token are
 * registered for masking. Conflicting methods are a ConfigError naming them.
 */
export function natsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, opts: NatsSettingsOptions = {}): NatsConfig {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.file !== undefined) {
    const { config, sources } = loadConfig({ env, file: opts.file, cwd, ignoreSections: ['database'] });
    checkNatsConfig(config.nats, sources);
    return config.nats;
  }
  const { values, sources } = sectionFromEnv('nats', env, cwd);
  checkNatsConfig(values, sources);
  return values;
}

function where(key: string, sources: Record<string, ConfigSource>): string {
  const env = NATS_ENV_VARS.find((e) => e.key === `nats.${key}`)?.name;
  // a key set in the file is named as the file's key, else as the variable that sets it
  return sources[`nats.${key}`] === 'file' || !env ? `nats.${key}` : env;
}

/** At most one authentication method; a password needs a user; a client certificate needs its key. */
export function checkNatsConfig(n: NatsConfig, sources: Record<string, ConfigSource> = {}): void {
  const methods = [
    n.token ? where('token', sources) : null,
    n.user || n.password ? `${where('user', sources)}/${where('password', sources)}` : null,
    n.nkey_seed_file ? where('nkey_seed_file', sources) : null,
    n.creds_file ? where('creds_file', sources) : null,
  ].filter((x): x is string => x !== null);
  if (methods.length > 1) throw new ConfigError(`NATS authentication: ${methods.join(' and ')} are set; choose one method`);
  if (n.password && !n.user) throw new ConfigError(`${where('password', sources)} is set without ${where('user', sources)}`);
  if (n.inbox_prefix !== undefined && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(n.inbox_prefix)) {
    throw new ConfigError(`${where('inbox_prefix', sources)} "${n.inbox_prefix}" must be subject tokens (letters, digits, "_", "-", separated by ".")`);
  }
  if (!!n.tls_cert !== !!n.tls_key) {
    throw new ConfigError(`NATS TLS: ${where('tls_cert', sources)} and ${where('tls_key', sources)} go together (client certificate and its key)`);
  }
}
