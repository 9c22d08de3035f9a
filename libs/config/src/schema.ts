/**
 * The configuration model, described ONCE: pdr_run's YAML sections and keys (SPEC §2.1, §2.5), one zod
 * schema per section. Each field carries, beside its type, its default, the PDR_* variable(s) that set
 * it (or NO_ENV), what it means, and — for keys accepted for pdr_run compatibility without effect — why
 * it is ignored. The types are `z.output` of the schemas; the loader (./load), the dry-run text
 * (./describe), the environment table (ENV_VARS), docs/configuration.md and the PDR_DB_* reading of
 * @pdr/persistence are all walks over these schemas.
 */
// axis strings and names that become path segments: the message contract's one definition
import { AXIS_VALUE_PATTERN as AXIS_VALUE, ONION_SPECIES_MAX, SAFE_NAME_PATTERN as SAFE_NAME, SAFE_NAME_RULE } from '@pdr/contracts';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { DEFAULT_MODEL_PARAMETERS, KOSMATAU_PARAMETER_DEFAULTS } from '@pdr/domain';

export const DB_TYPES = ['mysql', 'mariadb', 'sqlite', 'postgresql'] as const;
export type DbType = (typeof DB_TYPES)[number];
/** The database types the state service can actually use. */
export const SUPPORTED_DB_TYPES: readonly DbType[] = ['mysql', 'mariadb'];

export const STORAGE_TYPES = ['local', 'sftp', 'rclone', 'remote'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

/** sbatch --time formats (`UNLIMITED` is refused: a pilot needs an end it can plan for). */
export const SLURM_TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2})$/;

// ---------------------------------------------------------------------------------------------
// Field kinds: the zod schema of one value, and how raw values of that kind are normalised

const KIND_SCHEMAS = {
  string: () => z.string(),
  /** A string never shown: registered for masking wherever it is read. */
  secret: () => z.string(),
  /** A local path, resolved once against the caller's cwd (`~/` expanded). */
  path: () => z.string().min(1, 'must not be empty'),
  name: () => z.string().regex(SAFE_NAME, `must be ${SAFE_NAME_RULE}`),
  text: () => z.string(),
  int: () => z.number().int(),
  posint: () => z.number().int().min(1),
  nonnegint: () => z.number().int().min(0),
  port: () => z.number().int().min(1).max(65535),
  number: () => z.number().finite(),
  bool: () => z.boolean(),
  axis: () => z.array(z.string().regex(AXIS_VALUE, 'must be a decimal number (pdr_run encoding)')).min(1),
  species: () =>
    z.array(
      z
        .string()
        .regex(SAFE_NAME, `must be a species name: ${SAFE_NAME_RULE}`)
        .max(ONION_SPECIES_MAX, `must be at most ${ONION_SPECIES_MAX} characters (its file roles are stored as onion:<species>:<file>)`),
    ),
  strlist: () => z.array(z.string()),
  record: () => z.record(z.string(), z.unknown()),
  db_type: () => z.enum(DB_TYPES),
  storage_type: () => z.enum(STORAGE_TYPES),
  slurm_time: () =>
    z.string().regex(SLURM_TIME, 'must be a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS'),
};

export type FieldKind = keyof typeof KIND_SCHEMAS;
type KindSchema<K extends FieldKind> = ReturnType<(typeof KIND_SCHEMAS)[K]>;
type KindValue<K extends FieldKind> = z.output<KindSchema<K>>;

/** String-valued kinds: numbers/booleans written in YAML are taken as the text written. */
export const STRING_KINDS: ReadonlySet<FieldKind> = new Set(['string', 'secret', 'path', 'name', 'text', 'db_type', 'storage_type', 'slurm_time']);
export const NUMBER_KINDS: ReadonlySet<FieldKind> = new Set(['int', 'posint', 'nonnegint', 'port', 'number']);

/** The zod schema of one value of `kind` (a fresh instance). */
export function fieldSchema(kind: FieldKind): z.ZodType {
  return KIND_SCHEMAS[kind]();
}

// ---------------------------------------------------------------------------------------------
// Field metadata: attached to each field's schema through a zod registry

/** What the defaults may depend on: the caller's working directory, environment and clock. */
export interface DefaultContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: Date;
}

/** A key accepted (for pdr_run compatibility) whose value has no effect here. */
export interface IgnoredKey {
  /** Why, appended to the notice in parentheses. */
  why?: string;
  /** Only these values are without effect (default: any value given)… */
  when?: (value: unknown) => boolean;
  /** …said in words (docs), e.g. "when true". */
  whenText?: string;
  /** The whole notice after `<where>: ` when the standard sentence does not fit. */
  message?: (key: string, value: unknown) => string;
}

/** The explicit "no environment variable" marker: this key is set by the file and flags only. */
export const NO_ENV = null;

export interface FieldMeta {
  kind: FieldKind;
  /** The PDR_* variables that set this key, the last one set winning; NO_ENV when none. */
  env: readonly string[] | typeof NO_ENV;
  /** One line for docs/configuration.md. */
  doc: string;
  /** The built-in default, when there is one (also the schema's `.default`). */
  default?: (ctx: DefaultContext) => unknown;
  /** The default in words when it depends on the context (docs). */
  defaultText?: string;
  /** Accepted but without effect: reported as a one-line notice naming the key wherever it is set. */
  ignored?: IgnoredKey;
  /** Top-level keys: whether a config file may set it (default true). */
  inFile?: boolean;
}

/** Every field's metadata, keyed by the field's schema (as found in a section's `.shape`). */
const FIELD_REGISTRY = z.registry<FieldMeta>();

/** The metadata of a field's schema (zod's registry types mangle function-valued metadata: typed here). */
export function fieldMeta(schema: z.ZodType): FieldMeta | undefined {
  return FIELD_REGISTRY.get(schema) as FieldMeta | undefined;
}

function register<S extends z.ZodType>(schema: S, meta: FieldMeta): S {
  FIELD_REGISTRY.add(schema, meta as never);
  return schema;
}

type MetaIn = Omit<FieldMeta, 'kind' | 'env' | 'default'> & { env: string | readonly string[] | typeof NO_ENV };

function envList(env: MetaIn['env']): FieldMeta['env'] {
  return env === NO_ENV ? NO_ENV : typeof env === 'string' ? [env] : env;
}

const PROCESS_CONTEXT = (): DefaultContext => ({ cwd: process.cwd(), env: process.env, now: new Date() });

/** A key with a default: always present in the effective configuration. */
function withDefault<K extends FieldKind>(kind: K, def: (ctx: DefaultContext) => KindValue<K>, meta: MetaIn) {
  const base = KIND_SCHEMAS[kind]() as KindSchema<K>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const s = (base as any).default(() => def(PROCESS_CONTEXT())) as z.ZodDefault<KindSchema<K>>;
  return register(s, { ...meta, kind, env: envList(meta.env), default: def });
}

/** A key that may be unset (a context-dependent default that may be undefined is allowed). */
function optional<K extends FieldKind>(kind: K, meta: MetaIn & { default?: (ctx: DefaultContext) => KindValue<K> | undefined }) {
  const s = (KIND_SCHEMAS[kind]() as KindSchema<K>).optional() as z.ZodOptional<KindSchema<K>>;
  return register(s, { ...meta, kind, env: envList(meta.env) });
}

const constant =
  <T>(v: T) =>
  (): T =>
    v;

const COMPATIBILITY: IgnoredKey = {};
const SQLALCHEMY: IgnoredKey = { why: "a SQLAlchemy setting of pdr_run; the state service's pool is sized by pool_size" };

// ---------------------------------------------------------------------------------------------
// The sections. Field order is the order of "did you mean" candidates and of the dry-run variables.

/**
 * Built-in defaults are deliberately NOT pdr_run's (author's home directories, SQLite in memory):
 * MariaDB/MySQL on 127.0.0.1:3306, database `pdr`, user root, no password; local storage under the
 * caller's cwd; no PDR base dir (required to run); non_default_parameters empty — the column defaults
 * apply, which is what pdr_run's runs actually used (its 26 built-in values never reached the
 * database, defect 3); diagnostics off (defect 30).
 */
export const DATABASE_SECTION = z.object({
  type: withDefault('db_type', constant('mysql'), { env: 'PDR_DB_TYPE', doc: 'mysql or mariadb (sqlite, postgresql: pdr_run only, refused by the state service)' }),
  path: optional('path', { env: 'PDR_DB_FILE', doc: 'SQLite file (pdr_run only; not supported by the state service)' }),
  host: withDefault('string', constant('127.0.0.1'), { env: 'PDR_DB_HOST', doc: 'database server host' }),
  port: withDefault('port', constant(3306), { env: 'PDR_DB_PORT', doc: 'database server port' }),
  database: withDefault('string', constant('pdr'), { env: 'PDR_DB_DATABASE', doc: 'database (schema) name' }),
  username: withDefault('string', constant('root'), { env: 'PDR_DB_USERNAME', doc: 'database user' }),
  password: withDefault('secret', constant(''), { env: 'PDR_DB_PASSWORD', doc: "database password ('' = passwordless)" }),
  pool_size: withDefault('posint', constant(5), { env: NO_ENV, doc: "connections of the state service's pool" }),
  max_overflow: withDefault('nonnegint', constant(5), { env: NO_ENV, doc: 'pdr_run (SQLAlchemy) pool overflow', ignored: SQLALCHEMY }),
  pool_timeout: withDefault('number', constant(60), { env: NO_ENV, doc: 'pdr_run (SQLAlchemy) pool timeout, s', ignored: SQLALCHEMY }),
  pool_recycle: withDefault('number', constant(3600), { env: NO_ENV, doc: 'pdr_run (SQLAlchemy) connection recycling, s', ignored: SQLALCHEMY }),
  pool_pre_ping: withDefault('bool', constant(true), { env: NO_ENV, doc: 'pdr_run (SQLAlchemy) pre-ping', ignored: SQLALCHEMY }),
  connect_args: withDefault('record', () => ({}), { env: NO_ENV, doc: 'pdr_run (SQLAlchemy) driver arguments', ignored: SQLALCHEMY }),
  diagnostics_enabled: withDefault('bool', constant(false), {
    env: NO_ENV,
    doc: "pdr_run's database diagnostics",
    ignored: { why: 'the state service reports its pool as metrics (--metrics-port)' },
  }),
});

export const STORAGE_SECTION = z.object({
  type: withDefault('storage_type', constant('local'), { env: 'PDR_STORAGE_TYPE', doc: 'local, sftp, rclone or remote (= sftp)' }),
  // resolved against cwd only for local storage: a remote base dir is a path on the remote side
  base_dir: optional('string', {
    env: 'PDR_STORAGE_DIR',
    doc: 'storage base directory (local: resolved against the cwd; remote: a path on the remote side, required)',
    default: ({ cwd }) => path.join(cwd, 'pdr_storage'),
    defaultText: '<cwd>/pdr_storage (local storage); none for remote types',
  }),
  rclone_remote: optional('string', { env: 'PDR_STORAGE_RCLONE_REMOTE', doc: 'rclone remote (`name:`); secret parameters in it are masked' }),
  use_mount: withDefault('bool', constant(false), {
    env: 'PDR_STORAGE_USE_MOUNT',
    doc: "pdr_run's mount mode",
    ignored: {
      when: (v) => v === true,
      whenText: 'when true',
      why: 'mount mode is not implemented (as in pdr_run)',
      message: (key) => `${key}: mount mode is not implemented (as in pdr_run); ignored`,
    },
  }),
  mount_point: optional('path', { env: NO_ENV, doc: "pdr_run's mount point (mount mode is not implemented)" }),
  host: optional('string', { env: 'PDR_STORAGE_HOST', doc: 'sftp host' }),
  port: optional('port', { env: 'PDR_STORAGE_PORT', doc: 'sftp port (default 22)' }),
  username: optional('string', { env: 'PDR_STORAGE_USER', doc: 'sftp user' }),
  password: optional('secret', { env: 'PDR_STORAGE_PASSWORD', doc: 'sftp password (the runners take it from their environment)' }),
  use_local_copy: withDefault('bool', constant(true), { env: NO_ENV, doc: "pdr_run's local copy switch", ignored: COMPATIBILITY }),
  remote_path_prefix: optional('string', { env: 'PDR_STORAGE_REMOTE_PATH_PREFIX', doc: 'rclone: prefix removed from remote paths (on a path boundary)' }),
  key_file: optional('path', { env: 'PDR_STORAGE_KEY_FILE', doc: 'sftp: private key file on the runners' }),
  key_passphrase: optional('secret', { env: 'PDR_STORAGE_KEY_PASSPHRASE', doc: 'sftp: passphrase of key_file' }),
  known_hosts_file: optional('path', { env: 'PDR_STORAGE_KNOWN_HOSTS', doc: "sftp: known_hosts file (default ~/.ssh/known_hosts of the runner's user)" }),
  host_key_check: withDefault('bool', constant(true), { env: 'PDR_STORAGE_HOST_KEY_CHECK', doc: 'sftp: false accepts any host key (logged at every connection)' }),
});

export const PDR_SECTION = z.object({
  model_name: withDefault('name', ({ now }) => defaultModelName(now), {
    env: NO_ENV,
    doc: 'model name: the folder under the storage base and the model_names row',
    defaultText: 'pdr_model_<YYYYmmdd_HHMMSS> (local time of the load)',
  }),
  base_dir: optional('path', {
    env: ['PDR_BASE_DIR', 'PDR_EXEC_PATH'],
    doc: 'KOSMA-tau installation (executables, pdrinpdata/, templates/…); required to run. PDR_EXEC_PATH wins over PDR_BASE_DIR',
  }),
  pdr_file_name: withDefault('string', constant('mockpdr'), { env: NO_ENV, doc: 'PDR executable in base_dir' }),
  onion_file_name: withDefault('string', constant('mockonion'), { env: NO_ENV, doc: 'onion executable in base_dir' }),
  getctrlind_file_name: withDefault('string', constant('mockgetctrlind'), { env: NO_ENV, doc: 'getctrlind executable in base_dir' }),
  mrt_file_name: withDefault('string', constant('mockmrt'), { env: NO_ENV, doc: 'mrt executable in base_dir' }),
  pdrinp_template_file: withDefault('string', constant('PDRNEW.INP.template'), { env: NO_ENV, doc: 'PDRNEW.INP template name (looked up in templates/, pdrinpdata/templates/, .)' }),
  json_template_file: withDefault('string', constant('pdr_config.json.template'), { env: NO_ENV, doc: 'pdr_config.json template name (looked up like pdrinp_template_file)' }),
  json_template: optional('path', { env: NO_ENV, doc: "a user JSON template file (pdr_run's --json-template); not a pdr_run YAML key" }),
  chem_database: withDefault('string', constant('chem_rates_2022-10-21-ERS.dat'), { env: NO_ENV, doc: 'chemistry file in pdrinpdata/ (linked as chem_rates.dat)' }),
  chem_origin: withDefault('string', constant('UDfA12'), { env: NO_ENV, doc: 'origin of the chemistry file (chemical_databases.origin)' }),
  json_only: withDefault('bool', constant(false), { env: NO_ENV, doc: 'the run uses pdr_config.json alone: a missing PDRNEW template is not an error' }),
  remote_runners: withDefault('bool', constant(false), { env: NO_ENV, doc: 'runners are on other machines: base-dir checks are warnings' }),
  exe_revision: optional('string', { env: NO_ENV, doc: "pdr_run's executable revision", ignored: COMPATIBILITY }),
  compilation_date: optional('string', { env: NO_ENV, doc: "pdr_run's executable compilation date", ignored: COMPATIBILITY }),
});

export const USER_SECTION = z.object({
  username: optional('string', {
    env: NO_ENV,
    doc: 'who runs the grid (users table)',
    default: ({ env }) => defaultUsername(env),
    defaultText: '$USER, else $LOGNAME, else the login name',
  }),
  email: optional('string', { env: NO_ENV, doc: 'their e-mail (users table)' }),
});

const axis = (name: 'metal' | 'dens' | 'mass' | 'chi', doc: string) =>
  withDefault('axis', () => [...DEFAULT_MODEL_PARAMETERS[name]], { env: NO_ENV, doc: `grid axis: ${doc} (pdr_run encoded strings, kept as written)` });

export const MODEL_PARAMETERS_SECTION = z.object({
  metal: axis('metal', 'metallicity'),
  dens: axis('dens', 'density'),
  mass: axis('mass', 'mass'),
  chi: axis('chi', 'FUV field'),
  species: withDefault('species', () => [...DEFAULT_MODEL_PARAMETERS.species], { env: NO_ENV, doc: 'onion / line radiative-transfer species' }),
  alpha: withDefault('number', constant(DEFAULT_MODEL_PARAMETERS.alpha), { env: NO_ENV, doc: 'density power-law index' }),
  rcore: withDefault('number', constant(DEFAULT_MODEL_PARAMETERS.rcore), { env: NO_ENV, doc: 'core radius fraction' }),
  chemistry: withDefault('text', constant(DEFAULT_MODEL_PARAMETERS.chemistry), {
    env: NO_ENV,
    doc: 'chemistry species, whitespace-separated, verbatim (kosmatau_parameters.species)',
    defaultText: "pdr_run's default species list (libs/domain)",
  }),
  default_species: optional('text', { env: NO_ENV, doc: "pdr_run's default_species", ignored: { why: 'unused, as in pdr_run' } }),
  create_random_models: withDefault('bool', constant(false), { env: NO_ENV, doc: 'plan random points instead of the Cartesian grid' }),
  random_model_num: withDefault('posint', constant(50), { env: NO_ENV, doc: 'number of random points' }),
  reserved_cpus: withDefault('nonnegint', constant(2), { env: NO_ENV, doc: "pdr_run's CPUs kept free (pdr up --runners sizes the runners)" }),
});

/** The run layout is fixed (DESIGN "Running one job"); the `directories` section can only restate it. */
export const FIXED_DIRECTORIES = Object.freeze({
  pdr_out_dirs: Object.freeze(['pdroutput', 'onionoutput', 'Out']),
  pdr_inp_dirs: Object.freeze(['pdrinpdata', 'onioninpdata', 'In', 'templates']),
});

const fixedDirectory = (key: keyof typeof FIXED_DIRECTORIES) =>
  withDefault('strlist', () => [...FIXED_DIRECTORIES[key]], {
    env: NO_ENV,
    doc: `the run layout's ${key === 'pdr_out_dirs' ? 'output' : 'input'} directories (fixed)`,
    ignored: {
      when: (v) => JSON.stringify(v) !== JSON.stringify(FIXED_DIRECTORIES[key]),
      whenText: 'when it differs from the default',
      why: 'the run layout is fixed',
      message: (k) => `${k} differs from the fixed run layout ${JSON.stringify(FIXED_DIRECTORIES[key])} and is ignored`,
    },
  });

export const DIRECTORIES_SECTION = z.object({
  pdr_out_dirs: fixedDirectory('pdr_out_dirs'),
  pdr_inp_dirs: fixedDirectory('pdr_inp_dirs'),
});

/**
 * How a service or the CLI authenticates to NATS (issue 15). At most one of token, user/password, NKey
 * seed file and .creds file; TLS (CA, client certificate and key) combines with any of them. The
 * seed and creds files are read when connecting and never printed; password and token are masked.
 */
export const NATS_SECTION = z.object({
  url: withDefault('string', constant('nats://127.0.0.1:4222'), { env: 'PDR_NATS_URL', doc: 'NATS server URL (tls:// with TLS)' }),
  user: optional('string', { env: 'PDR_NATS_USER', doc: 'NATS user (with password)' }),
  password: optional('secret', { env: 'PDR_NATS_PASSWORD', doc: 'NATS password' }),
  token: optional('secret', { env: 'PDR_NATS_TOKEN', doc: 'NATS token' }),
  nkey_seed_file: optional('path', { env: 'PDR_NATS_NKEY_SEED_FILE', doc: 'NKey seed file' }),
  creds_file: optional('path', { env: 'PDR_NATS_CREDS_FILE', doc: '.creds file (JWT + seed)' }),
  tls_ca: optional('path', { env: 'PDR_NATS_TLS_CA', doc: 'CA certificate' }),
  tls_cert: optional('path', { env: 'PDR_NATS_TLS_CERT', doc: 'client certificate (with tls_key)' }),
  tls_key: optional('path', { env: 'PDR_NATS_TLS_KEY', doc: 'client key (with tls_cert)' }),
  inbox_prefix: optional('string', {
    env: 'PDR_NATS_INBOX_PREFIX',
    doc: "subject prefix of this connection's reply inboxes (default _INBOX): a role's own (deploy/nats/nats-server.conf)",
  }),
});

/** `pdr slurm`: how runner pilot jobs are rendered and scaled (issue 15). */
export const SLURM_SECTION = z.object({
  job_name: withDefault('name', constant('pdr-runner'), { env: NO_ENV, doc: 'sbatch --job-name' }),
  partition: optional('string', { env: NO_ENV, doc: 'sbatch --partition' }),
  account: optional('string', { env: NO_ENV, doc: 'sbatch --account' }),
  qos: optional('string', { env: NO_ENV, doc: 'sbatch --qos' }),
  time: optional('slurm_time', { env: NO_ENV, doc: 'sbatch --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS' }),
  cpus_per_task: withDefault('posint', constant(1), { env: NO_ENV, doc: "the runner's slots (cpus-per-task)" }),
  mem: optional('string', { env: NO_ENV, doc: 'sbatch --mem' }),
  extra_directives: withDefault('strlist', () => [], { env: NO_ENV, doc: 'more #SBATCH lines, with or without the `#SBATCH ` prefix' }),
  setup: withDefault('strlist', () => [], { env: NO_ENV, doc: 'shell lines run before the runner starts (module loads, environment)' }),
  signal_seconds: withDefault('posint', constant(300), { env: NO_ENV, doc: 'Slurm sends USR1 this long before the time limit: stop claiming' }),
  work_dir: optional('string', { env: NO_ENV, doc: 'job directories on the node (default $SLURM_TMPDIR, else $TMPDIR, else /tmp)' }),
  log_dir: optional('path', { env: NO_ENV, doc: "where sbatch writes the pilots' output (default the current directory)" }),
  idle_exit_seconds: withDefault('posint', constant(300), { env: NO_ENV, doc: 'a pilot exits after this long with nothing to pull' }),
  scale_cooldown_seconds: withDefault('posint', constant(60), { env: NO_ENV, doc: 'pdr slurm scale: never submit pilots more often than this' }),
  min_pilots: withDefault('nonnegint', constant(0), { env: NO_ENV, doc: 'pdr slurm scale: fewest pilots' }),
  max_pilots: withDefault('posint', constant(10), { env: NO_ENV, doc: 'pdr slurm scale: most pilots' }),
});

/** Top-level keys that are not sections. `log_dir` is not accepted in files: PDR_LOG_DIR or flag. */
export const TOP_LEVEL_SECTION = z.object({
  diagnostics_output_path: optional('path', {
    env: NO_ENV,
    doc: "where pdr_run wrote run diagnostics (defect 9: it could not be set from a file)",
    ignored: { why: 'no run diagnostics are written; the services log and serve metrics instead' },
  }),
  log_dir: optional('path', { env: 'PDR_LOG_DIR', inFile: false, doc: 'each service also appends its JSON log lines to `<dir>/<service>.log`' }),
});

/** kosmatau_parameters column → value (numbers for float/int columns, strings for fuvstring/species). */
export type NonDefaultParameters = Record<string, number | string>;

export const NON_DEFAULT_KEYS: readonly string[] = KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name);

export function nonDefaultKind(name: string): FieldKind | undefined {
  const col = KOSMATAU_PARAMETER_DEFAULTS.find((c) => c.name === name);
  if (!col) return undefined;
  return col.kind === 'int' ? 'int' : col.kind === 'float' ? 'number' : 'text';
}

/** The sections with named keys (non_default_parameters is keyed by kosmatau_parameters column). */
export const SECTIONS = {
  database: DATABASE_SECTION,
  storage: STORAGE_SECTION,
  pdr: PDR_SECTION,
  user: USER_SECTION,
  model_parameters: MODEL_PARAMETERS_SECTION,
  directories: DIRECTORIES_SECTION,
  nats: NATS_SECTION,
  slurm: SLURM_SECTION,
} as const;

// ---------------------------------------------------------------------------------------------
// Types of the effective (merged, validated, normalised) configuration: inferred from the schemas

export type DatabaseConfig = z.output<typeof DATABASE_SECTION>;
export type StorageConfig = z.output<typeof STORAGE_SECTION>;
export type PdrConfig = z.output<typeof PDR_SECTION>;
export type UserConfig = z.output<typeof USER_SECTION>;
export type ModelParameters = z.output<typeof MODEL_PARAMETERS_SECTION>;
export type DirectoriesConfig = z.output<typeof DIRECTORIES_SECTION>;
export type NatsConfig = z.output<typeof NATS_SECTION>;
export type SlurmConfig = z.output<typeof SLURM_SECTION>;

export type EffectiveConfig = { [S in keyof typeof SECTIONS]: z.output<(typeof SECTIONS)[S]> } & {
  non_default_parameters: NonDefaultParameters;
} & z.output<typeof TOP_LEVEL_SECTION>;

export type SectionName = keyof typeof SECTIONS | 'non_default_parameters';

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

/** Top-level keys a file may set besides the sections. */
export const TOP_LEVEL_FILE_KEYS: readonly string[] = Object.keys(TOP_LEVEL_SECTION.shape).filter(
  (k) => fieldMeta(TOP_LEVEL_SECTION.shape[k as keyof typeof TOP_LEVEL_SECTION.shape])?.inFile !== false,
);
/** Top-level keys flags may set. */
export const TOP_LEVEL_FLAG_KEYS: readonly string[] = Object.keys(TOP_LEVEL_SECTION.shape);

/** Everything allowed at the top level of a file (for "did you mean"). */
export const TOP_LEVEL_KEYS: readonly string[] = [...SECTION_NAMES, ...Object.keys(SECTION_ALIASES), ...TOP_LEVEL_FILE_KEYS];

/** Command-line flags: any subset of any section, plus the top-level keys. */
export type ConfigFlags = { [S in SectionName]?: Partial<EffectiveConfig[S]> } & {
  diagnostics_output_path?: string;
  log_dir?: string;
};

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

// ---------------------------------------------------------------------------------------------
// Walks over the schemas

/** One key of the configuration with its metadata; `section` undefined for a top-level key. */
export interface FieldInfo extends FieldMeta {
  section?: keyof typeof SECTIONS;
  key: string;
  /** `database.host`, or `log_dir` at the top level. */
  path: string;
}

function fieldsOf(section: keyof typeof SECTIONS | undefined, shape: Record<string, z.ZodType>): FieldInfo[] {
  return Object.entries(shape).map(([key, schema]) => {
    const meta = fieldMeta(schema);
    if (!meta) throw new Error(`config schema: ${section ? `${section}.` : ''}${key} has no field metadata`);
    return { ...meta, section, key, path: section ? `${section}.${key}` : key };
  });
}

/** Every named key of every section, then the top-level keys, in schema order. */
export const CONFIG_FIELDS: readonly FieldInfo[] = [
  ...(Object.keys(SECTIONS) as Array<keyof typeof SECTIONS>).flatMap((s) => fieldsOf(s, SECTIONS[s].shape)),
  ...fieldsOf(undefined, TOP_LEVEL_SECTION.shape),
];

const BY_PATH = new Map(CONFIG_FIELDS.map((f) => [f.path, f]));

/** The field at `database.host` (or a top-level key), if it is one. */
export function configField(keyPath: string): FieldInfo | undefined {
  return BY_PATH.get(keyPath);
}

/** Field kind of each key, per section (derived from the schemas). */
export const FIELDS: { readonly [S in keyof typeof SECTIONS]: Readonly<Record<string, FieldKind>> } = Object.fromEntries(
  (Object.keys(SECTIONS) as Array<keyof typeof SECTIONS>).map((s) => [
    s,
    Object.fromEntries(CONFIG_FIELDS.filter((f) => f.section === s).map((f) => [f.key, f.kind])),
  ]),
) as never;

/** Keys pdr_run read from its merged parameter dict that are not kosmatau_parameters columns. */
export const RUN_CONTROL_KEYS = ['create_random_models', 'random_model_num', 'reserved_cpus'] as const;

/** Keys accepted for pdr_run compatibility that have no effect (reported wherever they are set). */
export const IGNORED_KEYS: readonly string[] = CONFIG_FIELDS.filter((f) => f.ignored && !f.ignored.when).map((f) => f.path);

/** kosmatau_parameters columns computed per grid point: setting them in non_default_parameters overrides every point. */
export const PER_POINT_COLUMNS: readonly string[] = ['zmetal', 'xnsur', 'mass', 'sint', 'rtot'];

/** The notice for an ignored key set to `value` at `where` (file:line:col, variable or flag), or null. */
export function ignoredNotice(field: FieldInfo, value: unknown, where: string, keyPath = field.path): string | null {
  const ig = field.ignored;
  if (!ig || value === undefined || (ig.when && !ig.when(value))) return null;
  if (ig.message) return `${where}: ${ig.message(keyPath, value)}`;
  return `${where}: accepted for pdr_run compatibility but without effect: ${keyPath}${ig.why ? ` (${ig.why})` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Defaults

/** The built-in defaults: every field's `default`, evaluated for this cwd, environment and clock. */
export function builtInDefaults(cwd: string, env: NodeJS.ProcessEnv, now: Date): EffectiveConfig {
  const ctx: DefaultContext = { cwd, env, now };
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of Object.keys(SECTIONS)) out[s] = {};
  out.non_default_parameters = {};
  for (const f of CONFIG_FIELDS) {
    if (!f.section || !f.default) continue;
    const v = f.default(ctx);
    if (v !== undefined) out[f.section][f.key] = v;
  }
  return out as unknown as EffectiveConfig;
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
// zod schemas for one normalised layer (file or flags): every key optional, no defaults applied,
// unknown keys rejected

function layerSchema(fields: Readonly<Record<string, FieldKind>>): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, kind] of Object.entries(fields)) shape[key] = fieldSchema(kind).optional();
  return z.strictObject(shape);
}

export const SECTION_SCHEMAS: { readonly [S in SectionName]: z.ZodType } = {
  database: layerSchema(FIELDS.database),
  storage: layerSchema(FIELDS.storage),
  pdr: layerSchema(FIELDS.pdr),
  user: layerSchema(FIELDS.user),
  model_parameters: layerSchema(FIELDS.model_parameters),
  directories: layerSchema(FIELDS.directories),
  nats: layerSchema(FIELDS.nats),
  slurm: layerSchema(FIELDS.slurm),
  non_default_parameters: layerSchema(Object.fromEntries(NON_DEFAULT_KEYS.map((k) => [k, nonDefaultKind(k) as FieldKind]))),
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
