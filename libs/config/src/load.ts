import * as os from 'node:os';
import * as path from 'node:path';
import { registerSecret } from '@pdr/logging';
import { ConfigError } from './errors';
import { keyPath, normalizeLayer, type Layer } from './normalize';
import {
  builtInDefaults,
  DB_TYPES,
  FIELDS,
  FIXED_DIRECTORIES,
  IGNORED_KEYS,
  PER_POINT_COLUMNS,
  SECTION_NAMES,
  STORAGE_TYPES,
  SUPPORTED_DB_TYPES,
  TOP_LEVEL_FILE_KEYS,
  type ConfigFlags,
  type ConfigSource,
  type EffectiveConfig,
  type FieldKind,
  type SectionName,
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

/** Environment variables of SPEC §2.4 and the key each one sets. Empty values count as unset. */
export const ENV_VARS: ReadonlyArray<{ name: string; key: string; kind: FieldKind }> = [
  { name: 'PDR_DB_TYPE', key: 'database.type', kind: 'db_type' },
  { name: 'PDR_DB_HOST', key: 'database.host', kind: 'string' },
  { name: 'PDR_DB_PORT', key: 'database.port', kind: 'port' },
  { name: 'PDR_DB_DATABASE', key: 'database.database', kind: 'string' },
  { name: 'PDR_DB_USERNAME', key: 'database.username', kind: 'string' },
  { name: 'PDR_DB_PASSWORD', key: 'database.password', kind: 'secret' },
  { name: 'PDR_DB_FILE', key: 'database.path', kind: 'path' },
  { name: 'PDR_STORAGE_TYPE', key: 'storage.type', kind: 'storage_type' },
  { name: 'PDR_STORAGE_DIR', key: 'storage.base_dir', kind: 'string' },
  { name: 'PDR_STORAGE_HOST', key: 'storage.host', kind: 'string' },
  { name: 'PDR_STORAGE_USER', key: 'storage.username', kind: 'string' },
  { name: 'PDR_STORAGE_PASSWORD', key: 'storage.password', kind: 'secret' },
  { name: 'PDR_STORAGE_RCLONE_REMOTE', key: 'storage.rclone_remote', kind: 'string' },
  { name: 'PDR_STORAGE_USE_MOUNT', key: 'storage.use_mount', kind: 'bool' },
  { name: 'PDR_STORAGE_REMOTE_PATH_PREFIX', key: 'storage.remote_path_prefix', kind: 'string' },
  { name: 'PDR_STORAGE_PORT', key: 'storage.port', kind: 'port' },
  { name: 'PDR_STORAGE_KEY_FILE', key: 'storage.key_file', kind: 'path' },
  { name: 'PDR_STORAGE_KEY_PASSPHRASE', key: 'storage.key_passphrase', kind: 'secret' },
  { name: 'PDR_STORAGE_KNOWN_HOSTS', key: 'storage.known_hosts_file', kind: 'path' },
  { name: 'PDR_STORAGE_HOST_KEY_CHECK', key: 'storage.host_key_check', kind: 'bool' },
  { name: 'PDR_BASE_DIR', key: 'pdr.base_dir', kind: 'path' },
  // After PDR_BASE_DIR: when both are set, PDR_EXEC_PATH wins (as in pdr_run).
  { name: 'PDR_EXEC_PATH', key: 'pdr.base_dir', kind: 'path' },
  { name: 'PDR_LOG_DIR', key: 'log_dir', kind: 'path' },
  { name: 'PDR_NATS_URL', key: 'nats.url', kind: 'string' },
  { name: 'PDR_NATS_USER', key: 'nats.user', kind: 'string' },
  { name: 'PDR_NATS_PASSWORD', key: 'nats.password', kind: 'secret' },
  { name: 'PDR_NATS_TOKEN', key: 'nats.token', kind: 'secret' },
  { name: 'PDR_NATS_NKEY_SEED_FILE', key: 'nats.nkey_seed_file', kind: 'path' },
  { name: 'PDR_NATS_CREDS_FILE', key: 'nats.creds_file', kind: 'path' },
  { name: 'PDR_NATS_TLS_CA', key: 'nats.tls_ca', kind: 'path' },
  { name: 'PDR_NATS_TLS_CERT', key: 'nats.tls_cert', kind: 'path' },
  { name: 'PDR_NATS_TLS_KEY', key: 'nats.tls_key', kind: 'path' },
  { name: 'PDR_NATS_INBOX_PREFIX', key: 'nats.inbox_prefix', kind: 'string' },
];

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
function envLayer(env: NodeJS.ProcessEnv, warnings: string[]): Layer {
  const layer: Record<string, Record<string, unknown> | unknown> = {};
  const issues: string[] = [];
  for (const { name, key, kind } of ENV_VARS) {
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
  if (env.PDR_BASE_DIR && env.PDR_EXEC_PATH && env.PDR_BASE_DIR !== env.PDR_EXEC_PATH) {
    warnings.push('PDR_BASE_DIR and PDR_EXEC_PATH are both set and differ: PDR_EXEC_PATH is used for pdr.base_dir');
  }
  return layer as Layer;
}

/** Expand a leading `~/` and make absolute against `cwd`. */
export function resolvePath(cwd: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
  return path.resolve(cwd, p);
}

function registerLayerSecrets(layer: Layer): void {
  for (const section of ['database', 'storage', 'nats'] as const) {
    const pw = layer[section]?.password;
    if (typeof pw === 'string' || typeof pw === 'number') registerSecret(String(pw));
  }
  const pp = layer.storage?.key_passphrase;
  if (typeof pp === 'string' || typeof pp === 'number') registerSecret(String(pp));
  registerRcloneSecrets(layer.storage?.rclone_remote);
  const token = layer.nats?.token;
  if (typeof token === 'string' || typeof token === 'number') registerSecret(String(token));
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
  for (const v of [env.PDR_DB_PASSWORD, env.PDR_STORAGE_PASSWORD, env.PDR_STORAGE_KEY_PASSPHRASE, env.PDR_NATS_PASSWORD, env.PDR_NATS_TOKEN]) registerSecret(v);
  registerRcloneSecrets(env.PDR_STORAGE_RCLONE_REMOTE);
  registerLayerSecrets((opts.flags ?? {}) as Layer);

  // File layer
  let fileLayer: Layer = {};
  let filePath: string | undefined;
  if (opts.file !== undefined) {
    if (opts.file === '') throw new ConfigError('config file: empty path given');
    filePath = resolvePath(cwd, opts.file);
    const file = readConfigFile(filePath);
    for (const ignored of opts.ignoreSections ?? []) delete file.data[ignored];
    for (const s of ['database', 'storage', 'nats']) {
      const sec = file.data[s];
      for (const k of ['password', 'token', 'key_passphrase']) {
        const pw = sec && typeof sec === 'object' ? (sec as Record<string, unknown>)[k] : undefined;
        if (typeof pw === 'string' || typeof pw === 'number') registerSecret(String(pw));
      }
      if (sec && typeof sec === 'object') registerRcloneSecrets((sec as Record<string, unknown>).rclone_remote);
    }
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
    warnings.push(...fileOnlyWarnings(fileLayer, filePath));
  }

  const ignoredEnv = (opts.ignoreSections ?? []).includes('database') ? /^PDR_DB_/ : null;
  const envL = envLayer(ignoredEnv ? Object.fromEntries(Object.entries(env).filter(([k]) => !ignoredEnv.test(k))) : env, warnings);

  // Flag layer
  let flagLayer: Layer = {};
  if (opts.flags) {
    const n = normalizeLayer(opts.flags as Record<string, unknown>, {
      where: () => 'command-line flag',
      topLevelKeys: ['diagnostics_output_path', 'log_dir'],
    });
    if (n.issues.length === 1) throw new ConfigError(n.issues[0]);
    if (n.issues.length > 1) throw new ConfigError(`${n.issues.length} problems in command-line flags: ${n.issues.join('; ')}`, n.issues);
    warnings.push(...n.warnings);
    flagLayer = n.layer;
    registerLayerSecrets(flagLayer);
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
  for (const key of ['diagnostics_output_path', 'log_dir'] as const) {
    const hit = layers.find(([, l]) => l[key] !== undefined);
    sources[key] = hit ? hit[0] : 'default';
    if (hit) config[key] = hit[1][key];
  }
  const eff = config as unknown as EffectiveConfig;

  // Paths: resolved once, against the caller's cwd (defect 11).
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolvePath(cwd, p));
  eff.pdr.base_dir = abs(eff.pdr.base_dir);
  eff.pdr.json_template = abs(eff.pdr.json_template);
  eff.storage.mount_point = abs(eff.storage.mount_point);
  eff.database.path = eff.database.path === ':memory:' ? eff.database.path : abs(eff.database.path);
  eff.diagnostics_output_path = abs(eff.diagnostics_output_path);
  eff.log_dir = abs(eff.log_dir);
  for (const k of ['nkey_seed_file', 'creds_file', 'tls_ca', 'tls_cert', 'tls_key'] as const) eff.nats[k] = abs(eff.nats[k]);
  eff.slurm.log_dir = abs(eff.slurm.log_dir);
  if (eff.storage.type === 'local') {
    eff.storage.base_dir = abs(eff.storage.base_dir);
  } else if (sources['storage.base_dir'] === 'default') {
    // The local default means nothing on a remote backend: leave it unset (required there).
    delete eff.storage.base_dir;
  }
  for (const k of Object.keys(eff) as Array<keyof EffectiveConfig>) {
    const sec = eff[k];
    if (sec && typeof sec === 'object') for (const [kk, v] of Object.entries(sec)) if (v === undefined) delete (sec as Record<string, unknown>)[kk];
    if (sec === undefined) delete eff[k];
  }

  registerSecret(eff.database.password);
  registerSecret(eff.storage.password);
  registerSecret(eff.storage.key_passphrase);
  eff.storage.key_file = abs(eff.storage.key_file);
  eff.storage.known_hosts_file = abs(eff.storage.known_hosts_file);
  registerSecret(eff.nats.password);
  registerSecret(eff.nats.token);

  if (!SUPPORTED_DB_TYPES.includes(eff.database.type)) {
    warnings.push(
      `database.type '${eff.database.type}' (${sources['database.type']}) is not supported: ` +
        'the state service uses MySQL/MariaDB only',
    );
  }
  if (eff.storage.use_mount) warnings.push('storage.use_mount: mount mode is not implemented (as in pdr_run); ignored');

  return { config: eff, sources, warnings, file: filePath };
}

/** Warnings about what a file says that has no effect or overrides computed values. */
function fileOnlyWarnings(layer: Layer, file: string): string[] {
  const out: string[] = [];
  const present = IGNORED_KEYS.filter((k) => {
    const [s, key] = k.split('.') as [SectionName, string];
    return layer[s]?.[key] !== undefined;
  });
  if (present.length > 0) {
    out.push(`${file}: accepted for pdr_run compatibility but without effect: ${present.join(', ')}`);
  }
  const dirs = layer.directories ?? {};
  for (const key of ['pdr_out_dirs', 'pdr_inp_dirs'] as const) {
    const v = dirs[key];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(FIXED_DIRECTORIES[key])) {
      out.push(
        `${file}: ${keyPath(['directories', key])} differs from the fixed run layout ` +
          `${JSON.stringify(FIXED_DIRECTORIES[key])} and is ignored`,
      );
    }
  }
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
  if (!config.pdr.base_dir) {
    missing.push('pdr.base_dir is not set (config file pdr.base_dir, environment PDR_BASE_DIR or PDR_EXEC_PATH)');
  }
  const st = config.storage;
  if (st.type !== 'local' && !st.base_dir) {
    missing.push(`storage.base_dir is required for storage type '${st.type}' (config file or PDR_STORAGE_DIR)`);
  }
  if ((st.type === 'sftp' || st.type === 'remote') && !st.host) {
    missing.push(`storage.host is required for storage type '${st.type}' (config file or PDR_STORAGE_HOST)`);
  }
  if (st.type === 'rclone' && !st.rclone_remote) {
    missing.push("storage.rclone_remote is required for storage type 'rclone' (config file or PDR_STORAGE_RCLONE_REMOTE)");
  }
  if (missing.length === 1) throw new ConfigError(missing[0]);
  if (missing.length > 1) throw new ConfigError(`${missing.length} settings missing: ${missing.join('; ')}`, missing);
}
