import * as os from 'node:os';
import * as path from 'node:path';
import { registerSecret } from '@pdr/logging';
import { ConfigError } from './errors';
import { normalizeLayer, type Layer } from './normalize';
import {
  builtInDefaults,
  CONFIG_FIELDS,
  configField,
  DB_TYPES,
  FIELDS,
  ignoredNotice,
  PER_POINT_COLUMNS,
  SECTION_NAMES,
  STORAGE_TYPES,
  SUPPORTED_DB_TYPES,
  TOP_LEVEL_FILE_KEYS,
  TOP_LEVEL_FLAG_KEYS,
  type ConfigFlags,
  type ConfigSource,
  type EffectiveConfig,
  type FieldKind,
  type SectionName,
  type SECTIONS,
} from './schema';
import { readConfigFile } from './yaml-file';

export interface LoadConfigOptions {
  /** YAML config file (pdr_run format); relative to `cwd`. */
  file?: string;
  /** Environment; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags, already mapped onto config keys (e.g. `--dens` → model_parameters.dens). */
  flags?: ConfigFlags;
  /** The caller's working directory, against which every relative path is resolved once; default process.cwd(). */
  cwd?: string;
  /** Clock for the default model name (tests). */
  now?: Date;
  /**
   * Sections this caller does not use: not validated, not merged (their PDR_* variables neither), so a
   * problem there cannot fail it. `pdr run` ignores `database`, which belongs to the state service.
   */
  ignoreSections?: readonly 'database'[];
}

export interface LoadedConfig {
  config: EffectiveConfig;
  /** Where each value came from, by key path (`database.host`, `non_default_parameters.tgasc`, …). */
  sources: Record<string, ConfigSource>;
  warnings: string[];
  /** Absolute path of the file that was read, if any. */
  file?: string;
}

/**
 * The PDR_* variables (SPEC §2.4 and ours) and the key each one sets, read from the schema (./schema):
 * each field declares its variables beside its type and default. Where a key has two (pdr.base_dir:
 * PDR_BASE_DIR, PDR_EXEC_PATH), the later one wins. Empty values count as unset.
 */
export const ENV_VARS: ReadonlyArray<{ name: string; key: string; kind: FieldKind }> = CONFIG_FIELDS.flatMap((f) =>
  (f.env ?? []).map((name) => ({ name, key: f.path, kind: f.kind })),
);

/** The fields whose values are secrets (registered for masking wherever they are read). */
const SECRET_FIELDS = CONFIG_FIELDS.filter((f) => f.kind === 'secret');

function envValue(name: string, kind: FieldKind, raw: string): { value?: unknown; issue?: string } {
  switch (kind) {
    case 'port': {
      const t = raw.trim();
      const n = /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        return { issue: `${name}: invalid port '${raw}' (expected an integer 1-65535)` };
      }
      return { value: n };
    }
    case 'bool': {
      const t = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(t)) return { value: false };
      return { issue: `${name}: invalid value '${raw}' (expected true or false)` };
    }
    case 'db_type':
    case 'storage_type': {
      const t = raw.trim().toLowerCase();
      const allowed: readonly string[] = kind === 'db_type' ? DB_TYPES : STORAGE_TYPES;
      if (!allowed.includes(t)) return { issue: `${name}: invalid value '${raw}' (expected one of ${allowed.join(', ')})` };
      return { value: t };
    }
    default:
      return { value: raw };
  }
}

/** Read the PDR_* variables into a layer. Every invalid variable is reported, by name. */
function envLayer(env: NodeJS.ProcessEnv, warnings: string[], vars: typeof ENV_VARS = ENV_VARS): Layer {
  const layer: Record<string, Record<string, unknown> | unknown> = {};
  const issues: string[] = [];
  for (const { name, key, kind } of vars) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const { value, issue } = envValue(name, kind, raw);
    if (issue) {
      issues.push(issue);
      continue;
    }
    const [a, b] = key.split('.');
    if (b === undefined) layer[a] = value;
    else ((layer[a] ??= {}) as Record<string, unknown>)[b] = value;
  }
  if (issues.length === 1) throw new ConfigError(issues[0]);
  if (issues.length > 1) throw new ConfigError(`${issues.length} invalid environment variables: ${issues.join('; ')}`, issues);
  if (vars.some((v) => v.name === 'PDR_EXEC_PATH') && env.PDR_BASE_DIR && env.PDR_EXEC_PATH && env.PDR_BASE_DIR !== env.PDR_EXEC_PATH) {
    warnings.push('PDR_BASE_DIR and PDR_EXEC_PATH are both set and differ: PDR_EXEC_PATH is used for pdr.base_dir');
  }
  return layer as Layer;
}

/**
 * One section from its built-in defaults and its own PDR_* variables only: no file, and no other
 * section's variables (a runner is not failed by a bad PDR_DB_PORT it never uses). Invalid variables
 * are a ConfigError naming them; paths are resolved against `cwd`; secrets are registered for masking.
 */
export function sectionFromEnv<S extends keyof typeof SECTIONS>(
  section: S,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): { values: EffectiveConfig[S]; sources: Record<string, ConfigSource> } {
  const vars = ENV_VARS.filter((v) => v.key.startsWith(`${section}.`));
  for (const v of vars) if (v.kind === 'secret') registerSecret(env[v.name]);
  const layer = (envLayer(env, [], vars)[section] ?? {}) as Record<string, unknown>;
  const values = { ...builtInDefaults(cwd, env, new Date())[section] } as Record<string, unknown>;
  const sources: Record<string, ConfigSource> = {};
  for (const f of CONFIG_FIELDS) {
    if (f.section !== section) continue;
    if (layer[f.key] !== undefined) {
      values[f.key] = f.kind === 'path' ? resolvePath(cwd, layer[f.key] as string) : layer[f.key];
      sources[f.path] = 'env';
    }
    if (f.kind === 'secret') registerSecret(values[f.key] as string | undefined);
  }
  return { values: values as EffectiveConfig[S], sources };
}

/** Expand a leading `~/` and make absolute against `cwd`. */
export function resolvePath(cwd: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
  return path.resolve(cwd, p);
}

/** Register the secret values of a layer, or of a raw file's sections (numbers as written count too). */
function registerLayerSecrets(layer: Record<string, unknown>): void {
  for (const f of SECRET_FIELDS) {
    const sec = layer[f.section as string];
    const v = sec && typeof sec === 'object' ? (sec as Record<string, unknown>)[f.key] : undefined;
    if (typeof v === 'string' || typeof v === 'number') registerSecret(String(v));
  }
  const st = layer.storage;
  if (st && typeof st === 'object') registerRcloneSecrets((st as Record<string, unknown>).rclone_remote);
}

/** Values of secret parameters in an rclone connection string (`:sftp,pass=…:`): masked wherever they show. */
function registerRcloneSecrets(remote: unknown): void {
  if (typeof remote !== 'string') return;
  for (const m of remote.matchAll(/[,:]\s*([A-Za-z0-9_]+)\s*=\s*("[^"]*"|'[^']*'|[^,:]*)/g)) {
    if (/pass|secret|token|key_pem|private_key|api_key|credentials/i.test(m[1])) registerSecret(m[2].replace(/^["']|["']$/g, ''));
  }
}

/**
 * Load the effective configuration. One precedence for every key: flag > environment > file >
 * built-in defaults. The file is pdr_run's YAML as it is (sections, aliases, keys of SPEC §2.1);
 * every problem is a ConfigError naming the file/variable/flag and the key path, with the nearest
 * known key for typos. Relative paths are resolved once against `cwd`. The database and storage
 * passwords are registered with @pdr/logging so they are masked in every log line.
 */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const warnings: string[] = [];

  // Secrets first, so that no later message can show them.
  for (const f of SECRET_FIELDS) for (const name of f.env ?? []) registerSecret(env[name]);
  registerRcloneSecrets(env.PDR_STORAGE_RCLONE_REMOTE);
  registerLayerSecrets((opts.flags ?? {}) as Record<string, unknown>);

  // File layer
  let fileLayer: Layer = {};
  let filePath: string | undefined;
  /** file:line:col of a key path set by the file. */
  let fileWhere: (keyPath: string) => string = () => 'config file';
  if (opts.file !== undefined) {
    if (opts.file === '') throw new ConfigError('config file: empty path given');
    filePath = resolvePath(cwd, opts.file);
    const file = readConfigFile(filePath);
    for (const ignored of opts.ignoreSections ?? []) delete file.data[ignored];
    registerLayerSecrets(file.data);
    warnings.push(...file.warnings);
    const n = normalizeLayer(file.data, {
      where: (segs) => file.where(segs),
      sourceText: (segs) => file.sourceText(segs),
      topLevelKeys: TOP_LEVEL_FILE_KEYS,
    });
    if (n.issues.length === 1) throw new ConfigError(n.issues[0]);
    if (n.issues.length > 1) throw new ConfigError(`${n.issues.length} problems in ${filePath}: ${n.issues.join('; ')}`, n.issues);
    warnings.push(...n.warnings);
    fileLayer = n.layer;
    registerLayerSecrets(fileLayer);
    fileWhere = (keyPath) => {
      const segs = n.origins[keyPath];
      return segs ? file.where(segs) : (filePath as string);
    };
    warnings.push(...perPointWarnings(fileLayer, filePath));
  }

  // the variables of ignored sections are not read either
  const ignored: readonly string[] = opts.ignoreSections ?? [];
  const envL = envLayer(env, warnings, ENV_VARS.filter((v) => !ignored.includes(v.key.split('.')[0])));

  // Flag layer
  let flagLayer: Layer = {};
  if (opts.flags) {
    const n = normalizeLayer(opts.flags as Record<string, unknown>, {
      where: () => 'command-line flag',
      topLevelKeys: TOP_LEVEL_FLAG_KEYS,
    });
    if (n.issues.length === 1) throw new ConfigError(n.issues[0]);
    if (n.issues.length > 1) throw new ConfigError(`${n.issues.length} problems in command-line flags: ${n.issues.join('; ')}`, n.issues);
    warnings.push(...n.warnings);
    flagLayer = n.layer;
    registerLayerSecrets(flagLayer as Record<string, unknown>);
  }

  // Merge: first defined value among flag, env, file, default.
  const defaults = builtInDefaults(cwd, env, opts.now ?? new Date());
  const layers: Array<[ConfigSource, Layer]> = [
    ['flag', flagLayer],
    ['env', envL],
    ['file', fileLayer],
  ];
  const sources: Record<string, ConfigSource> = {};
  const config = {} as Record<string, unknown>;
  for (const section of SECTION_NAMES) {
    const def = defaults[section] as unknown as Record<string, unknown>;
    const keys =
      section === 'non_default_parameters'
        ? [...new Set(layers.flatMap(([, l]) => Object.keys(l.non_default_parameters ?? {})))]
        : Object.keys(FIELDS[section]);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      let chosen: [ConfigSource, unknown] = ['default', def[key]];
      for (const [src, l] of layers) {
        const v = l[section]?.[key];
        if (v !== undefined) {
          chosen = [src, v];
          break;
        }
      }
      sources[`${section}.${key}`] = chosen[0];
      if (chosen[1] !== undefined) out[key] = chosen[1];
    }
    config[section] = out;
  }
  for (const key of TOP_LEVEL_FLAG_KEYS as ReadonlyArray<'diagnostics_output_path' | 'log_dir'>) {
    const hit = layers.find(([, l]) => l[key] !== undefined);
    sources[key] = hit ? hit[0] : 'default';
    if (hit) config[key] = hit[1][key];
  }
  const eff = config as unknown as EffectiveConfig;

  // Paths: resolved once, against the caller's cwd (defect 11): every field of kind 'path'.
  for (const f of CONFIG_FIELDS) {
    if (f.kind !== 'path') continue;
    const holder = (f.section ? eff[f.section] : eff) as unknown as Record<string, unknown>;
    const v = holder[f.key];
    // SQLite's in-memory database is not a file
    if (typeof v === 'string' && !(f.path === 'database.path' && v === ':memory:')) holder[f.key] = resolvePath(cwd, v);
  }
  if (eff.storage.type === 'local') {
    if (eff.storage.base_dir !== undefined) eff.storage.base_dir = resolvePath(cwd, eff.storage.base_dir);
  } else if (sources['storage.base_dir'] === 'default') {
    // The local default means nothing on a remote backend: leave it unset (required there).
    delete eff.storage.base_dir;
  }
  for (const k of Object.keys(eff) as Array<keyof EffectiveConfig>) {
    const sec = eff[k];
    if (sec && typeof sec === 'object') for (const [kk, v] of Object.entries(sec)) if (v === undefined) delete (sec as Record<string, unknown>)[kk];
    if (sec === undefined) delete eff[k];
  }

  for (const f of SECRET_FIELDS) registerSecret((eff[f.section as SectionName] as Record<string, unknown>)[f.key] as string | undefined);

  if (!SUPPORTED_DB_TYPES.includes(eff.database.type)) {
    warnings.push(
      `database.type '${eff.database.type}' (${sources['database.type']}) is not supported: ` +
        'the state service uses MySQL/MariaDB only',
    );
  }

  // Keys accepted but without effect: one notice per key, naming where its value came from.
  for (const f of CONFIG_FIELDS) {
    if (!f.ignored) continue;
    const source = sources[f.path];
    if (source === undefined || source === 'default') continue;
    const holder = (f.section ? eff[f.section] : eff) as unknown as Record<string, unknown>;
    const where = source === 'file' ? fileWhere(f.path) : source === 'env' ? envVarSet(f.env, env) : 'command-line flag';
    const notice = ignoredNotice(f, holder[f.key], where);
    if (notice) warnings.push(notice);
  }

  return { config: eff, sources, warnings, file: filePath };
}

/** The variable among `names` whose value was used (the last one set). */
function envVarSet(names: readonly string[] | null, env: NodeJS.ProcessEnv): string {
  const set = (names ?? []).filter((n) => env[n] !== undefined && env[n] !== '');
  return set[set.length - 1] ?? 'environment';
}

/** Warnings about what a file sets that overrides values computed per grid point. */
function perPointWarnings(layer: Layer, file: string): string[] {
  const out: string[] = [];
  for (const col of PER_POINT_COLUMNS) {
    if (layer.non_default_parameters?.[col] !== undefined) {
      out.push(
        `${file}: non_default_parameters.${col} replaces the value computed from the grid axes at every grid point`,
      );
    }
  }
  return out;
}

/**
 * What a run needs beyond a valid configuration: a PDR base directory, and for remote storage
 * the connection settings. Throws one ConfigError naming every missing key and how to set it.
 */
export function requireRunSettings(config: EffectiveConfig): void {
  const missing: string[] = [];
  const vars = (key: string) => (configField(key)?.env ?? []).join(' or ');
  if (!config.pdr.base_dir) {
    missing.push(`pdr.base_dir is not set (config file pdr.base_dir, environment ${vars('pdr.base_dir')})`);
  }
  const st = config.storage;
  if (st.type !== 'local' && !st.base_dir) {
    missing.push(`storage.base_dir is required for storage type '${st.type}' (config file or ${vars('storage.base_dir')})`);
  }
  if ((st.type === 'sftp' || st.type === 'remote') && !st.host) {
    missing.push(`storage.host is required for storage type '${st.type}' (config file or ${vars('storage.host')})`);
  }
  if (st.type === 'rclone' && !st.rclone_remote) {
    missing.push(`storage.rclone_remote is required for storage type 'rclone' (config file or ${vars('storage.rclone_remote')})`);
  }
  if (missing.length === 1) throw new ConfigError(missing[0]);
  if (missing.length > 1) throw new ConfigError(`${missing.length} settings missing: ${missing.join('; ')}`, missing);
}
