/** Tables of this project: grids, their points, executables, and the attempt history of jobs. */
import { EntitySchema, type OptionalProps } from '@mikro-orm/core';
import { bigint, bigPk, bool, char, datetime3, fk, int, json, NULLABLE, pk, text, varchar } from './columns';

/** One row per submitted grid request; idempotent by (model_name_id, request_hash). */
export interface GridRow {
  /** Filled by the database when not given (column defaults). */
  [OptionalProps]?: 'id' | 'created_at' | 'submit_count' | 'last_submitted_at' | 'cancel_requested' | 'cancel_kill';
  id: number;
  model_name_id: number;
  request_hash: string;
  description: string | null;
  user_id: number | null;
  chemical_database_id: number | null;
  physics: unknown;
  run_options: unknown;
  /** Space-separated onion species, as pdr_model_jobs.onion_species. */
  onion_species: string;
  seed: number | null;
  point_count: number;
  created_at: Date;
  submit_count: number;
  last_submitted_at: Date;
  cancel_requested: boolean;
  cancel_kill: boolean;
}
export const Grid = new EntitySchema<GridRow>({
  name: 'Grid',
  tableName: 'grids',
  uniques: [{ name: 'grids_request_unique', properties: ['model_name_id', 'request_hash'] }],
  indexes: [
    { name: 'grids_user_id_foreign', properties: ['user_id'] },
    { name: 'grids_chemical_database_id_foreign', properties: ['chemical_database_id'] },
  ],
  properties: {
    id: pk(),
    model_name_id: fk('ModelName'),
    request_hash: char(64),
    description: varchar(1000, NULLABLE),
    user_id: fk('User', NULLABLE),
    chemical_database_id: fk('ChemicalDatabase', NULLABLE),
    physics: json(),
    run_options: json(),
    onion_species: text(),
    seed: bigint(NULLABLE),
    point_count: int(),
    created_at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
    submit_count: int({ defaultRaw: '1' }),
    last_submitted_at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
    cancel_requested: bool({ defaultRaw: '0' }),
    cancel_kill: bool({ defaultRaw: '0' }),
  },
});

/** Membership of a job in a grid: a point shared by two grids of one model counts in both. */
export interface GridPointRow {
  grid_id: number;
  job_id: number;
}
export const GridPoint = new EntitySchema<GridPointRow>({
  name: 'GridPoint',
  tableName: 'grid_points',
  indexes: [{ name: 'grid_points_job_id_index', properties: ['job_id'] }],
  properties: {
    grid_id: fk('Grid', { primary: true, onDelete: 'cascade' }),
    job_id: fk('PdrModelJob', { primary: true, onDelete: 'cascade' }),
  },
});

/**
 * A grid's counts kept by the database itself: triggers on pdr_model_jobs and grid_points (their SQL:
 * libs/persistence/src/grid-counts.ts, run by their migration and by `pdr db upgrade`) add and subtract in the same
 * transaction as every insert, status change, change of owning grid and delete, so `gridStatus` of a
 * 10^6-point grid reads a few hundred rows instead of counting a million index entries. `what` is a job
 * status ('' for pdr_run rows without one) counting the jobs the grid owns (pdr_model_jobs.grid_id), or
 * MEMBER_COUNT counting its grid_points rows. Each count is split over 64 rows by job id (`shard` = id
 * mod 64, fixed by the migration), so concurrent claims and finishes of one grid rarely wait for one row
 * lock; readers sum whatever shards there are. first_start / last_finish: the earliest time_of_start and latest
 * time_of_finish ever seen for the grid's jobs in that row (never moved back when a job is re-run).
 */
export interface GridCountRow {
  grid_id: number;
  what: string;
  shard: number;
  n: number;
  first_start: Date | null;
  last_finish: Date | null;
}
/** `grid_counts.what` of the membership count (not a job status: statuses are lower-case words). */
export const MEMBER_COUNT = '(member)';
export const GridCount = new EntitySchema<GridCountRow>({
  name: 'GridCount',
  tableName: 'grid_counts',
  properties: {
    grid_id: fk('Grid', { primary: true, onDelete: 'cascade' }),
    what: { ...varchar(50), primary: true },
    shard: { ...int(), primary: true },
    n: bigint({ defaultRaw: '0' }),
    first_start: datetime3(NULLABLE),
    last_finish: datetime3(NULLABLE),
  },
});

export interface GridExecutableRow {
  grid_id: number;
  executable_id: number;
  role: string;
}
export const GridExecutable = new EntitySchema<GridExecutableRow>({
  name: 'GridExecutable',
  tableName: 'grid_executables',
  indexes: [{ name: 'grid_executables_executable_id_foreign', properties: ['executable_id'] }],
  properties: {
    grid_id: fk('Grid', { primary: true, onDelete: 'cascade' }),
    executable_id: fk('KosmatauExecutable', { primary: true }),
    role: { ...varchar(20), primary: true },
  },
});

/** One row per claim of a job; closed with its outcome, never overwritten. */
export interface JobAttemptRow {
  id: number;
  job_id: number;
  attempt: number;
  generation: number;
  runner_id: string | null;
  delivery: number | null;
  status: string;
  reason: string | null;
  exit_codes: unknown;
  started_at: Date;
  finished_at: Date | null;
}
export const JobAttempt = new EntitySchema<JobAttemptRow>({
  name: 'JobAttempt',
  tableName: 'job_attempts',
  uniques: [{ name: 'job_attempts_job_attempt_unique', properties: ['job_id', 'attempt'] }],
  properties: {
    id: pk(),
    job_id: fk('PdrModelJob', { onDelete: 'cascade' }),
    attempt: int(),
    generation: int(),
    runner_id: varchar(200, NULLABLE),
    delivery: int(NULLABLE),
    status: varchar(50),
    reason: text(NULLABLE),
    exit_codes: json(NULLABLE),
    started_at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
    finished_at: datetime3(NULLABLE),
  },
});

export interface JobStepRow {
  id: number;
  job_id: number;
  attempt: number;
  step: string;
  detail: unknown;
  at: Date;
}
export const JobStep = new EntitySchema<JobStepRow>({
  name: 'JobStep',
  tableName: 'job_steps',
  indexes: [{ name: 'job_steps_job_attempt_index', properties: ['job_id', 'attempt'] }],
  properties: {
    id: bigPk(),
    job_id: fk('PdrModelJob', { onDelete: 'cascade' }),
    attempt: int(),
    step: varchar(100),
    detail: json(NULLABLE),
    at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
  },
});

/** The files a job stored, one row per role (the latest finished attempt's). */
export interface JobFileRow {
  id: number;
  job_id: number;
  attempt: number;
  role: string;
  file_name: string;
  rel_path: string;
  full_path: string;
  file_size: number;
  modification_time: Date;
  sha256_sum: string;
}
export const JobFile = new EntitySchema<JobFileRow>({
  name: 'JobFile',
  tableName: 'job_files',
  uniques: [{ name: 'job_files_job_role_unique', properties: ['job_id', 'role'] }],
  properties: {
    id: pk(),
    job_id: fk('PdrModelJob', { onDelete: 'cascade' }),
    attempt: int(),
    role: varchar(200),
    file_name: varchar(255),
    rel_path: text(),
    full_path: text(),
    file_size: bigint(),
    modification_time: datetime3(),
    sha256_sum: char(64),
  },
});

/**
 * The identity of this database (one row, written by its migration): part of every job event's id, so
 * the events of two databases behind one NATS namespace never collide (job ids alone repeat).
 */
export interface InstallationRow {
  id: number;
  uuid: string;
  created_at: Date;
}
export const Installation = new EntitySchema<InstallationRow>({
  name: 'Installation',
  tableName: 'installation',
  properties: {
    id: { ...int(), primary: true, autoincrement: false },
    uuid: char(36),
    created_at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
  },
});

/** A row merged into another of the same natural identity by `pdr db upgrade` / `pdr db import` (kept as JSON). */
export interface LegacyMergeRow {
  [OptionalProps]?: 'id' | 'merged_at';
  id: number;
  table_name: string;
  merged_id: number;
  survivor_id: number;
  merged_row: unknown;
  /** 'upgrade', or 'import:<sqlite file sha256>'. */
  source: string;
  merged_at: Date;
}
export const LegacyMerge = new EntitySchema<LegacyMergeRow>({
  name: 'LegacyMerge',
  tableName: 'legacy_merges',
  uniques: [{ name: 'legacy_merges_row_unique', properties: ['source', 'table_name', 'merged_id'] }],
  indexes: [{ name: 'legacy_merges_survivor_index', properties: ['table_name', 'survivor_id'] }],
  properties: {
    id: pk(),
    table_name: varchar(64),
    merged_id: int(),
    survivor_id: int(),
    merged_row: json(),
    source: varchar(200),
    merged_at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
  },
});

/** A row `pdr db import` took from a pdr_run SQLite file, and the row it became. */
export interface LegacyImportRowRow {
  [OptionalProps]?: 'imported_at';
  source: string;
  table_name: string;
  legacy_id: number;
  row_id: number;
  merged: boolean;
  imported_at: Date;
}
export const LegacyImportRow = new EntitySchema<LegacyImportRowRow>({
  name: 'LegacyImportRow',
  tableName: 'legacy_import_rows',
  properties: {
    source: { ...char(64), primary: true },
    table_name: { ...varchar(64), primary: true },
    legacy_id: { ...int(), primary: true, autoincrement: false },
    row_id: int(),
    merged: bool(),
    imported_at: datetime3({ defaultRaw: 'CURRENT_TIMESTAMP(3)' }),
  },
});
