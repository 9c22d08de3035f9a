/**
 * pdr_run's nine tables (SPEC §4; names FIXED by DESIGN "Database"), with the columns this project
 * adds, their unique keys, indexes and foreign keys (`fk`: a relation mapped to the plain id, so rows
 * carry numbers). Differences from pdr_run's DDL, all compatible for readers of the old columns:
 *  - floats are DOUBLE (pdr_run: single-precision FLOAT on MySQL, defect 26);
 *  - `kosmatau_parameters.species`, `pdr_model_jobs.onion_species` and every stored path are TEXT
 *    (pdr_run: String(255), too small, defect 21); `model_names.model_path` is VARCHAR(512);
 *  - file sizes are BIGINT (defect 21); times carry milliseconds (DATETIME(3));
 *  - the physics columns carry their pdr_run defaults (@pdr/domain) as column defaults (pdr_run:
 *    client-side only);
 *  - unique keys on every natural identity (defect 20): model_names(model_name, model_path),
 *    users(username, email), kosmatau_executables and chemical_databases by a generated
 *    `identity_sha` over all their identity fields (NULLs included, JSON_ARRAY keeps them apart from
 *    empty strings), kosmatau_parameters(model_name_id, parameter_hash), pdr_model_jobs(model_name_id,
 *    kosmatau_parameters_id), hdf_files(job_id) (one row per job), json_files(job_id, name) instead of
 *    a global unique sha256_sum (defect 22); json_templates keeps its unique sha256_sum;
 *  - hdf_files file-name columns are nullable: a file that was not produced gets NULL;
 *  - binary collation (utf8mb4_bin, the database's): names, paths and species are case-sensitive.
 * Indexes named `<table>_<column>_foreign` are the ones MariaDB made for a foreign key that no other
 * index starts with; they are declared so that the schema diff sees them as wanted.
 */
import { EntitySchema } from '@mikro-orm/core';
import { KOSMATAU_PARAMETER_DEFAULTS, ParameterColumn } from '@pdr/domain';
import { bigint, bool, char, datetime0, datetime3, double, fk, generatedChar64, int, NULLABLE, pk, text, varchar } from './columns';

export interface ModelNameRow {
  id: number;
  model_name: string;
  model_path: string;
  model_description: string | null;
}
export const ModelName = new EntitySchema<ModelNameRow>({
  name: 'ModelName',
  tableName: 'model_names',
  uniques: [{ name: 'model_names_identity_unique', properties: ['model_name', 'model_path'] }],
  properties: {
    id: pk(),
    model_name: varchar(255),
    model_path: varchar(512),
    model_description: varchar(1000, NULLABLE),
  },
});

export interface UserRow {
  id: number;
  username: string;
  email: string;
}
export const User = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  uniques: [{ name: 'users_identity_unique', properties: ['username', 'email'] }],
  properties: { id: pk(), username: varchar(255), email: varchar(255) },
});

export interface KosmatauExecutableRow {
  id: number;
  code_revision: string | null;
  compilation_date: Date | null;
  executable_file_name: string;
  executable_full_path: string | null;
  sha256_sum: string | null;
  comment: string | null;
  identity_sha: string | null;
}
export const KosmatauExecutable = new EntitySchema<KosmatauExecutableRow>({
  name: 'KosmatauExecutable',
  tableName: 'kosmatau_executables',
  uniques: [{ name: 'kosmatau_executables_identity_unique', properties: ['identity_sha'] }],
  properties: {
    id: pk(),
    code_revision: varchar(50, NULLABLE),
    compilation_date: datetime0(NULLABLE),
    executable_file_name: varchar(255),
    executable_full_path: text(NULLABLE),
    sha256_sum: varchar(64, NULLABLE),
    comment: varchar(250, NULLABLE),
    identity_sha: generatedChar64(
      'sha2(json_array(code_revision, compilation_date, executable_file_name, executable_full_path, sha256_sum), 256)',
    ),
  },
});

export interface ChemicalDatabaseRow {
  id: number;
  chem_rates_file_name: string;
  chem_rates_full_path: string | null;
  database_origin: string | null;
  identity_sha: string | null;
}
export const ChemicalDatabase = new EntitySchema<ChemicalDatabaseRow>({
  name: 'ChemicalDatabase',
  tableName: 'chemical_databases',
  uniques: [{ name: 'chemical_databases_identity_unique', properties: ['identity_sha'] }],
  properties: {
    id: pk(),
    chem_rates_file_name: varchar(255),
    chem_rates_full_path: text(NULLABLE),
    database_origin: varchar(50, NULLABLE),
    identity_sha: generatedChar64('sha2(json_array(chem_rates_file_name, chem_rates_full_path, database_origin), 256)'),
  },
});

/** One row per distinct physical parameter set per model name; physics columns as in @pdr/domain. */
export interface KosmatauParametersRow {
  id: number;
  model_name_id: number | null;
  time_created: Date | null;
  comments: string | null;
  parameter_hash: string;
  [physicsColumn: string]: number | string | Date | null;
}

/** The entity property of one physics column (pdr_run: Float → DOUBLE, Integer → INT, String(50), Text). */
function physicsProperty(c: ParameterColumn) {
  const o = { nullable: true, ...(c.default === null ? {} : { default: c.default }) };
  switch (c.kind) {
    case 'float':
      return double(o);
    case 'int':
      return int(o);
    case 'string':
      return varchar(50, o);
    case 'text':
      return text(o);
  }
}

export const KosmatauParameters = new EntitySchema<KosmatauParametersRow>({
  name: 'KosmatauParameters',
  tableName: 'kosmatau_parameters',
  uniques: [{ name: 'kosmatau_parameters_identity_unique', properties: ['model_name_id', 'parameter_hash'] }],
  properties: {
    id: pk(),
    model_name_id: fk('ModelName', NULLABLE),
    time_created: datetime3({ nullable: true, defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
    comments: text(NULLABLE),
    ...Object.fromEntries(KOSMATAU_PARAMETER_DEFAULTS.map((c) => [c.name, physicsProperty(c)])),
    parameter_hash: char(64),
  } as never,
});

/** The pdr_run output/input file columns of a job (all TEXT here; pdr_run: String(255)/(512)). */
export const JOB_FILE_COLUMNS = [
  'output_directory',
  'output_hdf4_file',
  'output_textout_file',
  'output_chemchk_file',
  'output_mcdrt_zip_file',
  'output_ctrl_ind_file',
  'input_pdrnew_inp_file',
  'log_file',
  'output_hdf5_file',
  'input_json_file',
  'output_json_file',
] as const;
export type JobFileColumn = (typeof JOB_FILE_COLUMNS)[number];

export interface PdrModelJobRow {
  id: number;
  model_name_id: number | null;
  model_job_name: string;
  user_id: number | null;
  kosmatau_parameters_id: number | null;
  kosmatau_executable_id: number | null;
  chemical_database_id: number | null;
  onion_species: string | null;
  pending: boolean | null;
  active: boolean | null;
  status: string | null;
  time_of_start: Date | null;
  time_of_finish: Date | null;
  /** pdr_run's Interval: DATETIME offset from 1970-01-01 00:00:00. */
  execution_time: Date | null;
  token: string | null;
  output_directory: string | null;
  output_hdf4_file: string | null;
  output_textout_file: string | null;
  output_chemchk_file: string | null;
  output_mcdrt_zip_file: string | null;
  output_ctrl_ind_file: string | null;
  input_pdrnew_inp_file: string | null;
  log_file: string | null;
  output_hdf5_file: string | null;
  input_json_file: string | null;
  output_json_file: string | null;
  time_created: Date | null;
  time_updated: Date | null;
  // ---- this project
  grid_id: number | null;
  attempt: number;
  generation: number;
  version: number;
  heartbeat_at: Date | null;
  runner_id: string | null;
  reason: string | null;
  cancel_requested: boolean;
  cancel_kill: boolean;
  queued_at: Date | null;
  execution_ms: number | null;
}
export const PdrModelJob = new EntitySchema<PdrModelJobRow>({
  name: 'PdrModelJob',
  tableName: 'pdr_model_jobs',
  uniques: [{ name: 'pdr_model_jobs_point_unique', properties: ['model_name_id', 'kosmatau_parameters_id'] }],
  indexes: [
    // a grid's jobs by status: cancel and retry filter on (grid_id, status), jobsEstimate reads a grid's
    // finished jobs in time_of_start order from it, and the gridStatus of a grid that shares points with
    // another is counted from the index alone; a grid's own counts come from grid_counts (grid-counts.ts)
    { name: 'pdr_model_jobs_grid_status_index', properties: ['grid_id', 'status', 'time_of_start', 'time_of_finish'] },
    { name: 'pdr_model_jobs_status_heartbeat_index', properties: ['status', 'heartbeat_at'] },
    { name: 'pdr_model_jobs_status_time_created_index', properties: ['status', 'time_created'] },
    { name: 'pdr_model_jobs_user_id_foreign', properties: ['user_id'] },
    { name: 'pdr_model_jobs_kosmatau_parameters_id_foreign', properties: ['kosmatau_parameters_id'] },
    { name: 'pdr_model_jobs_kosmatau_executable_id_foreign', properties: ['kosmatau_executable_id'] },
    { name: 'pdr_model_jobs_chemical_database_id_foreign', properties: ['chemical_database_id'] },
  ],
  properties: {
    id: pk(),
    model_name_id: fk('ModelName', NULLABLE),
    model_job_name: varchar(255),
    user_id: fk('User', NULLABLE),
    kosmatau_parameters_id: fk('KosmatauParameters', NULLABLE),
    kosmatau_executable_id: fk('KosmatauExecutable', NULLABLE),
    chemical_database_id: fk('ChemicalDatabase', NULLABLE),
    onion_species: text(NULLABLE),
    pending: bool({ nullable: true, defaultRaw: '1' }),
    active: bool({ nullable: true, defaultRaw: '0' }),
    status: varchar(50, { nullable: true, defaultRaw: "'pending'" }),
    time_of_start: datetime3(NULLABLE),
    time_of_finish: datetime3(NULLABLE),
    execution_time: datetime3(NULLABLE),
    token: varchar(250, NULLABLE),
    output_directory: text(NULLABLE),
    output_hdf4_file: text(NULLABLE),
    output_textout_file: text(NULLABLE),
    output_chemchk_file: text(NULLABLE),
    output_mcdrt_zip_file: text(NULLABLE),
    output_ctrl_ind_file: text(NULLABLE),
    input_pdrnew_inp_file: text(NULLABLE),
    log_file: text(NULLABLE),
    output_hdf5_file: text(NULLABLE),
    input_json_file: text(NULLABLE),
    output_json_file: text(NULLABLE),
    time_created: datetime3({ nullable: true, defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
    time_updated: datetime3({ nullable: true, extra: 'on update current_timestamp(3)' }),
    grid_id: fk('Grid', NULLABLE),
    attempt: int({ defaultRaw: '0' }),
    generation: int({ defaultRaw: '0' }),
    version: int({ defaultRaw: '0' }),
    heartbeat_at: datetime3(NULLABLE),
    runner_id: varchar(200, NULLABLE),
    reason: text(NULLABLE),
    cancel_requested: bool({ defaultRaw: '0' }),
    cancel_kill: bool({ defaultRaw: '0' }),
    queued_at: datetime3(NULLABLE),
    execution_ms: bigint(NULLABLE),
  },
});

/** The three HDF files of a job: HDF4 (no suffix), HDF5 structure (`_hdf5_s`), HDF5 chemistry (`_hdf5_c`). */
export const HDF_SUFFIXES = ['', '_hdf5_s', '_hdf5_c'] as const;
export type HdfSuffix = (typeof HDF_SUFFIXES)[number];

export interface HdfFileRow {
  id: number;
  job_id: number | null;
  pdrexe_id: number | null;
  parameter_id: number | null;
  model_name_id: number | null;
  [fileColumn: string]: number | string | boolean | Date | null;
}
function hdfFileProperties(suffix: HdfSuffix) {
  return {
    [`file_name${suffix}`]: varchar(255, NULLABLE),
    [`full_path${suffix}`]: text(NULLABLE),
    [`path${suffix}`]: text(NULLABLE),
    [`modification_time${suffix}`]: datetime3(NULLABLE),
    [`sha256_sum${suffix}`]: varchar(64, NULLABLE),
    [`file_size${suffix}`]: bigint(NULLABLE),
    [`corrupt${suffix}`]: bool({ nullable: true, defaultRaw: '0' }),
    [`comments${suffix}`]: text(NULLABLE),
  };
}
export const HdfFile = new EntitySchema<HdfFileRow>({
  name: 'HdfFile',
  tableName: 'hdf_files',
  uniques: [{ name: 'hdf_files_job_id_unique', properties: ['job_id'] }],
  indexes: [
    { name: 'hdf_files_parameter_model_index', properties: ['parameter_id', 'model_name_id'] },
    { name: 'hdf_files_pdrexe_id_foreign', properties: ['pdrexe_id'] },
    { name: 'hdf_files_model_name_id_foreign', properties: ['model_name_id'] },
  ],
  properties: {
    id: pk(),
    job_id: fk('PdrModelJob', NULLABLE),
    pdrexe_id: fk('KosmatauExecutable', NULLABLE),
    parameter_id: fk('KosmatauParameters', NULLABLE),
    model_name_id: fk('ModelName', NULLABLE),
    ...hdfFileProperties(''),
    ...hdfFileProperties('_hdf5_s'),
    ...hdfFileProperties('_hdf5_c'),
  } as never,
});

export interface JsonTemplateRow {
  id: number;
  name: string;
  path: string;
  description: string | null;
  hash: string | null;
  sha256_sum: string | null;
  created_at: Date | null;
}
export const JsonTemplate = new EntitySchema<JsonTemplateRow>({
  name: 'JsonTemplate',
  tableName: 'json_templates',
  uniques: [{ name: 'json_templates_sha256_sum_unique', properties: ['sha256_sum'] }],
  properties: {
    id: pk(),
    name: varchar(255),
    path: varchar(512),
    description: text(NULLABLE),
    hash: varchar(64, NULLABLE),
    sha256_sum: varchar(64, NULLABLE),
    created_at: datetime3({ nullable: true, defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
  },
});

export interface JsonFileRow {
  id: number;
  name: string;
  path: string;
  archived_path: string | null;
  sha256_sum: string | null;
  created_at: Date | null;
  template_id: number | null;
  job_id: number | null;
}
export const JsonFile = new EntitySchema<JsonFileRow>({
  name: 'JsonFile',
  tableName: 'json_files',
  uniques: [{ name: 'json_files_job_name_unique', properties: ['job_id', 'name'] }],
  indexes: [
    { name: 'json_files_sha256_sum_index', properties: ['sha256_sum'] },
    { name: 'json_files_template_id_foreign', properties: ['template_id'] },
  ],
  properties: {
    id: pk(),
    name: varchar(255),
    path: text(),
    archived_path: text(NULLABLE),
    sha256_sum: varchar(64, NULLABLE),
    created_at: datetime3({ nullable: true, defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
    template_id: fk('JsonTemplate', NULLABLE),
    job_id: fk('PdrModelJob', NULLABLE),
  },
});
