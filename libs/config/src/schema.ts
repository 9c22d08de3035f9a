/**
 * The configuration model: pdr_run's YAML sections and keys (SPEC §2.1, §2.5), their types, our
 * defaults, and the zod schemas that validate one layer (file, flags) after normalisation.
 */
// axis strings and names that become path segments: the message contract's one definition
import { AXIS_VALUE_PATTERN as AXIS_VALUE, SAFE_NAME_PATTERN as SAFE_NAME, SAFE_NAME_RULE } from '@pdr/contracts';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { DEFAULT_MODEL_PARAMETERS, KOSMATAU_PARAMETER_DEFAULTS } from '@pdr/domain';

// ---------------------------------------------------------------------------------------------
// Types of the effective (merged, validated, normalised) configuration

export const DB_TYPES = ['mysql', 'mariadb', 'sqlite', 'postgresql'] as const;
export type DbType = (typeof DB_TYPES)[number];
/** The database types the state service can actually use. */
export const SUPPORTED_DB_TYPES: readonly DbType[] = ['mysql', 'mariadb'];

export const STORAGE_TYPES = ['local', 'sftp', 'rclone', 'remote'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

export interface DatabaseConfig {
  type: DbType;
  host: string;
  port: number;
  database: string;
  username: string;
  /** '' = passwordless. */
  password: string;
  /** SQLite file (pdr_run only; not supported by the state service). */
  path?: string;
  pool_size: number;
  max_overflow: number;
  pool_timeout: number;
  pool_recycle: number;
  pool_pre_ping: boolean;
  connect_args: Record<string, unknown>;
  diagnostics_enabled: boolean;
}

export interface StorageConfig {
  type: StorageType;
  /** Local: absolute path. sftp/remote/rclone: a path on the remote side, kept as written. */
  base_dir?: string;
  rclone_remote?: string;
  use_mount: boolean;
  mount_point?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  use_local_copy: boolean;
  remote_path_prefix?: string;
  /** sftp: private key file on the runners (not a pdr_run key). */
  key_file?: string;
  /** sftp: passphrase of key_file (secret; the runners take it from PDR_STORAGE_KEY_PASSPHRASE). */
  key_passphrase?: string;
  /** sftp: known_hosts file on the runners; default ~/.ssh/known_hosts of the runner's user. */
  known_hosts_file?: string;
  /** sftp: false accepts any host key (logged at every connection); default true. */
  host_key_check: boolean;
}

export interface PdrConfig {
  model_name: string;
  /** KOSMA-tau installation (executables, pdrinpdata/, templates/…), absolute. Required to run. */
  base_dir?: string;
  pdr_file_name: string;
  onion_file_name: string;
  getctrlind_file_name: string;
  mrt_file_name: string;
  /** File names looked up inside base_dir (templates/, pdrinpdata/templates/, .) — names, not paths. */
  pdrinp_template_file: string;
  json_template_file: string;
  /** A user JSON template file (pdr_run's `--json-template`), absolute. Not a pdr_run YAML key. */
  json_template?: string;
  chem_database: string;
  chem_origin: string;
  /** The run uses pdr_config.json alone: a missing PDRNEW template is not an error (preflight). */
  json_only: boolean;
  /**
   * The runners are on other machines: the preflight checks of the base dir (which only this machine's
   * view can answer) are warnings "the runners must see it at this path" instead of errors.
   */
  remote_runners: boolean;
  exe_revision?: string;
  compilation_date?: string;
}

export interface UserConfig {
  username?: string;
  email?: string;
}

export interface ModelParameters {
  /** Grid axes: pdr_run's encoded strings, exactly as written (e.g. "30", "05", "3.0"). */
  metal: string[];
  dens: string[];
  mass: string[];
  chi: string[];
  /** Onion / line radiative-transfer species. */
  species: string[];
  alpha: number;
  rcore: number;
  /** Chemistry species, whitespace-separated, verbatim (stored as kosmatau_parameters.species). */
  chemistry: string;
  /** Accepted for compatibility, unused (as in pdr_run). */
  default_species?: string;
  create_random_models: boolean;
  random_model_num: number;
  reserved_cpus: number;
}

/** kosmatau_parameters column → value (numbers for float/int columns, strings for fuvstring/species). */
export type NonDefaultParameters = Record<string, number | string>;

export interface DirectoriesConfig {
  pdr_out_dirs: string[];
  pdr_inp_dirs: string[];
}

/**
 * How a service or the CLI authenticates to NATS (issue 15). At most one of token, user/password, NKey
 * seed file and .creds file; TLS (CA, client certificate and key) combines with any of them. The
 * seed and creds files are read when connecting and never printed; password and token are masked.
 */
export interface NatsConfig {
  url: string;
  user?: string;
  password?: string;
  token?: string;
  nkey_seed_file?: string;
  creds_file?: string;
  tls_ca?: string;
  tls_cert?: string;
  tls_key?: string;
  /** Subject prefix of this connection's reply inboxes (default `_INBOX`): a role's own, so that no
   * other role may subscribe to its replies (deploy/nats/nats-server.conf). */
  inbox_prefix?: string;
}

/** `pdr slurm`: how runner pilot jobs are rendered and scaled (issue 15). */
export interface SlurmConfig {
  job_name: string;
  partition?: string;
  account?: string;
  qos?: string;
  /** sbatch --time as Slurm writes it: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
  time?: string;
  /** The runner's slots (cpus-per-task). */
  cpus_per_task: number;
  mem?: string;
  /** More `#SBATCH` lines, with or without the `#SBATCH ` prefix. */
  extra_directives: string[];
  /** Shell lines run before the runner starts (module loads, environment). */
  setup: string[];
  /** Slurm sends USR1 this many seconds before the time limit (`--signal=B:USR1@<s>`): stop claiming. */
  signal_seconds: number;
  /** Job directories on the node; default $SLURM_TMPDIR, else $TMPDIR, else /tmp (node-local scratch). */
  work_dir?: string;
  /** Where sbatch writes the pilots' output (`slurm-<id>.out`); default the current directory. */
  log_dir?: string;
  /** A pilot exits after this long with nothing to pull. */
  idle_exit_seconds: number;
  /** `pdr slurm scale`: never submit pilots more often than this. */
  scale_cooldown_seconds: number;
  min_pilots: number;
  max_pilots: number;
}

export interface EffectiveConfig {
  database: DatabaseConfig;
  storage: StorageConfig;
  pdr: PdrConfig;
  user: UserConfig;
  model_parameters: ModelParameters;
  non_default_parameters: NonDefaultParameters;
  directories: DirectoriesConfig;
  nats: NatsConfig;
  slurm: SlurmConfig;
  /** Where run diagnostics are written (pdr_run could not set it from a file, defect 9), absolute. */
  diagnostics_output_path?: string;
  /** PDR_LOG_DIR, absolute (environment or flag only). */
  log_dir?: string;
}

export type SectionName =
  | 'database'
  | 'storage'
  | 'pdr'
  | 'user'
  | 'model_parameters'
  | 'non_default_parameters'
  | 'directories'
  | 'nats'
  | 'slurm';

export const SECTION_NAMES: readonly SectionName[] = [
  'database',
  'storage',
  'pdr',
  'user',
  'model_parameters',
  'non_default_parameters',
  'directories',
  'nats',
  'slurm',
];

/** pdr_run's section aliases (alias → canonical). */
export const SECTION_ALIASES: Readonly<Record<string, SectionName>> = {
  model_params: 'model_parameters',
  non_default_params: 'non_default_parameters',
};

/** Top-level scalar keys (not sections). `log_dir` is not accepted in files: PDR_LOG_DIR or flag. */
export const TOP_LEVEL_FILE_KEYS = ['diagnostics_output_path'] as const;

/** Everything allowed at the top level of a file (for "did you mean"). */
export const TOP_LEVEL_KEYS: readonly string[] = [
  ...SECTION_NAMES,
  ...Object.keys(SECTION_ALIASES),
  ...TOP_LEVEL_FILE_KEYS,
];

/** Command-line flags: any subset of any section, plus the top-level keys. */
export type ConfigFlags = { [S in SectionName]?: Partial<EffectiveConfig[S]> } & {
  diagnostics_output_path?: string;
  log_dir?: string;
};

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

// ---------------------------------------------------------------------------------------------
// Field kinds: drive both the normalisation of raw values and the zod schemas

export type FieldKind =
  | 'string'
  | 'secret'
  | 'path'
  | 'name'
  | 'text'
  | 'int'
  | 'posint'
  | 'nonnegint'
  | 'port'
  | 'number'
  | 'bool'
  | 'axis'
  | 'species'
  | 'strlist'
  | 'record'
  | 'db_type'
  | 'storage_type'
  | 'slurm_time';

/** String-valued kinds: numbers/booleans written in YAML are taken as the text written. */
export const STRING_KINDS: ReadonlySet<FieldKind> = new Set(['string', 'secret', 'path', 'name', 'text', 'db_type', 'storage_type', 'slurm_time']);
export const NUMBER_KINDS: ReadonlySet<FieldKind> = new Set(['int', 'posint', 'nonnegint', 'port', 'number']);

export const FIELDS: { readonly [S in Exclude<SectionName, 'non_default_parameters'>]: Readonly<Record<string, FieldKind>> } = {
  database: {
    type: 'db_type',
    path: 'path',
    host: 'string',
    port: 'port',
    database: 'string',
    username: 'string',
    password: 'secret',
    pool_size: 'posint',
    max_overflow: 'nonnegint',
    pool_timeout: 'number',
    pool_recycle: 'number',
    pool_pre_ping: 'bool',
    connect_args: 'record',
    diagnostics_enabled: 'bool',
  },
  storage: {
    type: 'storage_type',
    base_dir: 'string', // resolved against cwd only for local storage
    rclone_remote: 'string',
    use_mount: 'bool',
    mount_point: 'path',
    host: 'string',
    port: 'port',
    username: 'string',
    password: 'secret',
    use_local_copy: 'bool',
    remote_path_prefix: 'string',
    key_file: 'path',
    key_passphrase: 'secret',
    known_hosts_file: 'path',
    host_key_check: 'bool',
  },
  pdr: {
    model_name: 'name',
    base_dir: 'path',
    pdr_file_name: 'string',
    onion_file_name: 'string',
    getctrlind_file_name: 'string',
    mrt_file_name: 'string',
    pdrinp_template_file: 'string',
    json_template_file: 'string',
    json_template: 'path',
    chem_database: 'string',
    chem_origin: 'string',
    json_only: 'bool',
    remote_runners: 'bool',
    exe_revision: 'string',
    compilation_date: 'string',
  },
  user: {
    username: 'string',
    email: 'string',
  },
  model_parameters: {
    metal: 'axis',
    dens: 'axis',
    mass: 'axis',
    chi: 'axis',
    species: 'species',
    alpha: 'number',
    rcore: 'number',
    chemistry: 'text',
    default_species: 'text',
    create_random_models: 'bool',
    random_model_num: 'posint',
    reserved_cpus: 'nonnegint',
  },
  directories: {
    pdr_out_dirs: 'strlist',
    pdr_inp_dirs: 'strlist',
  },
  nats: {
    url: 'string',
    user: 'string',
    password: 'secret',
    token: 'secret',
    nkey_seed_file: 'path',
    creds_file: 'path',
    tls_ca: 'path',
    tls_cert: 'path',
    tls_key: 'path',
    inbox_prefix: 'string',
  },
  slurm: {
    job_name: 'name',
    partition: 'string',
    account: 'string',
    qos: 'string',
    time: 'slurm_time',
    cpus_per_task: 'posint',
    mem: 'string',
    extra_directives: 'strlist',
    setup: 'strlist',
    signal_seconds: 'posint',
    work_dir: 'string',
    log_dir: 'path',
    idle_exit_seconds: 'posint',
    scale_cooldown_seconds: 'posint',
    min_pilots: 'nonnegint',
    max_pilots: 'posint',
  },
};

/** Keys pdr_run read from its merged parameter dict that are not kosmatau_parameters columns. */
export const RUN_CONTROL_KEYS = ['create_random_models', 'random_model_num', 'reserved_cpus'] as const;

/** Keys accepted for pdr_run compatibility that have no effect (reported as a warning, defect 9). */
export const IGNORED_KEYS: readonly string[] = [
  'model_parameters.default_species',
  'storage.use_local_copy',
  'pdr.exe_revision',
  'pdr.compilation_date',
];

/** kosmatau_parameters columns computed per grid point: setting them in non_default_parameters overrides every point. */
export const PER_POINT_COLUMNS: readonly string[] = ['zmetal', 'xnsur', 'mass', 'sint', 'rtot'];

/** The run layout is fixed (DESIGN "Running one job"); the `directories` section can only restate it. */
export const FIXED_DIRECTORIES: Readonly<DirectoriesConfig> = Object.freeze({
  pdr_out_dirs: ['pdroutput', 'onionoutput', 'Out'],
  pdr_inp_dirs: ['pdrinpdata', 'onioninpdata', 'In', 'templates'],
});

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * Built-in defaults. Deliberately NOT pdr_run's (author's home directories, SQLite in memory):
 * - pdr.base_dir: none — required to run; ConfigError names pdr.base_dir / PDR_BASE_DIR.
 * - storage.base_dir (local): `<cwd>/pdr_storage`; remote types: none (the backend requires it).
 * - database: MariaDB/MySQL on 127.0.0.1:3306, database `pdr`, user root, no password.
 * - pdr.model_name: `pdr_model_<YYYYmmdd_HHMMSS>` (local time of the load).
 * - non_default_parameters: empty — the column defaults apply, which is what pdr_run's runs
 *   actually used (its 26 built-in values never reached the database, defect 3).
 * - diagnostics off (defect 30).
 */
export function builtInDefaults(cwd: string, env: NodeJS.ProcessEnv, now: Date): EffectiveConfig {
  return {
    database: {
      type: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      database: 'pdr',
      username: 'root',
      password: '',
      pool_size: 5,
      max_overflow: 5,
      pool_timeout: 60,
      pool_recycle: 3600,
      pool_pre_ping: true,
      connect_args: {},
      diagnostics_enabled: false,
    },
    storage: {
      type: 'local',
      base_dir: path.join(cwd, 'pdr_storage'),
      use_mount: false,
      use_local_copy: true,
      host_key_check: true,
    },
    pdr: {
      model_name: defaultModelName(now),
      pdr_file_name: 'mockpdr',
      onion_file_name: 'mockonion',
      getctrlind_file_name: 'mockgetctrlind',
      mrt_file_name: 'mockmrt',
      pdrinp_template_file: 'PDRNEW.INP.template',
      json_template_file: 'pdr_config.json.template',
      chem_database: 'chem_rates_2022-10-21-ERS.dat',
      chem_origin: 'UDfA12',
      json_only: false,
      remote_runners: false,
    },
    user: { username: defaultUsername(env) },
    model_parameters: {
      metal: [...DEFAULT_MODEL_PARAMETERS.metal],
      dens: [...DEFAULT_MODEL_PARAMETERS.dens],
      mass: [...DEFAULT_MODEL_PARAMETERS.mass],
      chi: [...DEFAULT_MODEL_PARAMETERS.chi],
      species: [...DEFAULT_MODEL_PARAMETERS.species],
      alpha: DEFAULT_MODEL_PARAMETERS.alpha,
      rcore: DEFAULT_MODEL_PARAMETERS.rcore,
      chemistry: DEFAULT_MODEL_PARAMETERS.chemistry,
      create_random_models: false,
      random_model_num: 50,
      reserved_cpus: 2,
    },
    non_default_parameters: {},
    directories: {
      pdr_out_dirs: [...FIXED_DIRECTORIES.pdr_out_dirs],
      pdr_inp_dirs: [...FIXED_DIRECTORIES.pdr_inp_dirs],
    },
    nats: { url: 'nats://127.0.0.1:4222' },
    slurm: {
      job_name: 'pdr-runner',
      cpus_per_task: 1,
      extra_directives: [],
      setup: [],
      signal_seconds: 300,
      idle_exit_seconds: 300,
      scale_cooldown_seconds: 60,
      min_pilots: 0,
      max_pilots: 10,
    },
  };
}

/** pdr_run's default model name `pdr_model_<YYYYmmdd_HHMMSS>` in local time. */
export function defaultModelName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `pdr_model_${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_` +
    `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`
  );
}

function defaultUsername(env: NodeJS.ProcessEnv): string | undefined {
  if (env.USER) return env.USER;
  if (env.LOGNAME) return env.LOGNAME;
  try {
    return os.userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// zod schemas for one normalised layer (every key optional; unknown keys rejected)


/** sbatch --time formats (`UNLIMITED` is refused: a pilot needs an end it can plan for). */
export const SLURM_TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2})$/;

/** The zod schema of one value of `kind`. */
export function fieldSchema(kind: FieldKind): z.ZodType {
  switch (kind) {
    case 'string':
    case 'secret':
    case 'text':
      return z.string();
    case 'path':
      return z.string().min(1, 'must not be empty');
    case 'name':
      return z.string().regex(SAFE_NAME, `must be ${SAFE_NAME_RULE}`);
    case 'int':
      return z.number().int();
    case 'posint':
      return z.number().int().min(1);
    case 'nonnegint':
      return z.number().int().min(0);
    case 'port':
      return z.number().int().min(1).max(65535);
    case 'number':
      return z.number().finite();
    case 'bool':
      return z.boolean();
    case 'axis':
      return z.array(z.string().regex(AXIS_VALUE, 'must be a decimal number (pdr_run encoding)')).min(1);
    case 'species':
      return z.array(z.string().regex(SAFE_NAME, `must be a species name: ${SAFE_NAME_RULE}`));
    case 'strlist':
      return z.array(z.string());
    case 'record':
      return z.record(z.string(), z.unknown());
    case 'db_type':
      return z.enum(DB_TYPES);
    case 'storage_type':
      return z.enum(STORAGE_TYPES);
    case 'slurm_time':
      return z.string().regex(SLURM_TIME, 'must be a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS');
  }
}

function sectionSchema(fields: Readonly<Record<string, FieldKind>>): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, kind] of Object.entries(fields)) shape[key] = fieldSchema(kind).optional();
  return z.strictObject(shape);
}

export function nonDefaultKind(name: string): FieldKind | undefined {
  const col = KOSMATAU_PARAMETER_DEFAULTS.find((c) => c.name === name);
  if (!col) return undefined;
  return col.kind === 'int' ? 'int' : col.kind === 'float' ? 'number' : 'text';
}

export const NON_DEFAULT_KEYS: readonly string[] = KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name);

export const SECTION_SCHEMAS: { readonly [S in SectionName]: z.ZodType } = {
  database: sectionSchema(FIELDS.database),
  storage: sectionSchema(FIELDS.storage),
  pdr: sectionSchema(FIELDS.pdr),
  user: sectionSchema(FIELDS.user),
  model_parameters: sectionSchema(FIELDS.model_parameters),
  directories: sectionSchema(FIELDS.directories),
  nats: sectionSchema(FIELDS.nats),
  slurm: sectionSchema(FIELDS.slurm),
  non_default_parameters: sectionSchema(
    Object.fromEntries(NON_DEFAULT_KEYS.map((k) => [k, nonDefaultKind(k) as FieldKind])),
  ),
};

/** Field kind of `section.key`, or undefined for an unknown key. */
export function fieldKind(section: SectionName, key: string): FieldKind | undefined {
  if (section === 'non_default_parameters') return nonDefaultKind(key);
  return FIELDS[section][key];
}

/** Known keys of a section, for "did you mean". */
export function sectionKeys(section: SectionName): readonly string[] {
  return section === 'non_default_parameters' ? NON_DEFAULT_KEYS : Object.keys(FIELDS[section]);
}
