/**
 * `pdr db import` (issue 14): the rows of a pdr_run SQLite database, streamed by the CLI to the state
 * service in batches, table by table in reference order; state maps their ids to its own, merges rows
 * whose natural identity exists already, and records every imported row so a second import of the
 * same file changes nothing.
 */
import { z } from 'zod';
import { id, safeName, schemaVersion, sha256 } from './common';

/** pdr_run's nine tables in the order their references allow (an import sends them in this order). */
export const LEGACY_TABLES = [
  'model_names',
  'users',
  'kosmatau_executables',
  'chemical_databases',
  'kosmatau_parameters',
  'json_templates',
  'pdr_model_jobs',
  'hdf_files',
  'json_files',
] as const;
export type LegacyTable = (typeof LEGACY_TABLES)[number];

/**
 * Rows per state.legacy.import request. The largest pdr_run row is a kosmatau_parameters row with its
 * species text (~3 kB as JSON): 200 of them stay far below MAX_PAYLOAD_BYTES (1 MiB), and one batch is
 * one short transaction in state.
 */
export const MAX_IMPORT_ROWS_PER_BATCH = 200;

/** A column value as SQLite gives it (TEXT, INTEGER, REAL, NULL); BLOBs are not used by pdr_run. */
const cell = z.union([z.string().max(1_000_000), z.number(), z.null()]);
const columnName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain column name');

export const legacyImportRequest = z.object({
  v: schemaVersion,
  source: sha256.describe("the import's identity: sha256 of the SQLite file (with --model-name: of the file's sha256 and the name); importing it again changes nothing"),
  modelName: safeName.optional().describe('imports every model_names row under this name (pdr db import --model-name)'),
  table: z.enum(LEGACY_TABLES),
  rows: z
    .array(z.record(columnName, cell).refine((r) => typeof r.id === 'number' && Number.isSafeInteger(r.id) && r.id > 0, { message: 'every row needs its pdr_run id' }))
    .min(1)
    .max(MAX_IMPORT_ROWS_PER_BATCH),
  jobNames: z
    .array(z.array(z.string().max(255)))
    .optional()
    .describe('kosmatau_parameters only: the model_job_name of the jobs using each row (same order), to recompute its identity from the encoded grid strings'),
});
export type LegacyImportRequest = z.infer<typeof legacyImportRequest>;

export const legacyImportReply = z.object({
  /** Rows inserted as new rows. */
  inserted: z.number().int().nonnegative(),
  /** Rows whose natural identity existed: recorded in legacy_merges, their references point at the existing row. */
  merged: z.number().int().nonnegative(),
  /** Rows this source imported before (nothing done). */
  skipped: z.number().int().nonnegative(),
  /** Rows that reference a row the import does not have (left out, named in the reply). */
  orphans: z.array(z.object({ id, reason: z.string() })).default([]),
});
export type LegacyImportReply = z.infer<typeof legacyImportReply>;
