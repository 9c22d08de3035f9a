/**
 * Race-free get-or-create of the rows identified by their natural key (SPEC §4.10 fixed, defect 20):
 * insert first and let the unique key decide. `INSERT ... ON DUPLICATE KEY UPDATE id =
 * LAST_INSERT_ID(id)` returns the id of the new row or of the row that already held the key, in one
 * statement, so concurrent creators end with one row. Never find-then-insert.
 */
import { raw } from '@mikro-orm/core';
import type { Em } from './orm';
import type { SqlValue } from './sql';
import { toDbTime } from './time';

/**
 * Inserts `row` or finds the row with the same unique key; returns its id. (Whether the row is new
 * cannot be told from this statement: with CLIENT_FOUND_ROWS both paths report 1 row; `upsertGrid`
 * shows how to learn it where it matters.)
 */
export async function insertOrGetId(em: Em, table: string, row: Record<string, SqlValue>): Promise<number> {
  const meta = Object.values(em.getMetadata().getAll()).find((m) => m.tableName === table);
  if (!meta) throw new Error(`get-or-create: no entity for table ${table}`);
  // INSERT … ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), through the query builder of the EM's transaction
  const res = await em
    .createQueryBuilder(meta.className)
    .insert(row)
    .onConflict()
    .merge({ id: raw('LAST_INSERT_ID(id)') })
    .execute('run');
  if (!res.insertId) throw new Error(`get-or-create in ${table} returned no id`);
  return Number(res.insertId);
}

/** Checks a value against a column's length, naming the field (a clear BAD_REQUEST instead of a DB error). */
export function checkLength(field: string, value: string | null | undefined, max: number): void {
  if (value !== null && value !== undefined && value.length > max) {
    throw new ValueTooLongError(field, value.length, max);
  }
}

export class ValueTooLongError extends Error {
  constructor(
    readonly field: string,
    readonly length: number,
    readonly max: number,
  ) {
    super(`${field} is ${length} characters long; the database column holds at most ${max}`);
    this.name = 'ValueTooLongError';
  }
}

export async function upsertModelName(em: Em, m: { modelName: string; modelPath: string; description?: string | null }): Promise<number> {
  checkLength('modelName', m.modelName, 255);
  checkLength('modelPath', m.modelPath, 512);
  checkLength('description', m.description, 1000);
  return insertOrGetId(em, 'model_names', { model_name: m.modelName, model_path: m.modelPath, model_description: m.description ?? null });
}

export async function upsertUser(em: Em, u: { username: string; email: string }): Promise<number> {
  checkLength('user.username', u.username, 255);
  checkLength('user.email', u.email, 255);
  return insertOrGetId(em, 'users', { username: u.username, email: u.email });
}

export async function upsertChemicalDatabase(em: Em, c: { fileName: string; fullPath: string | null; origin: string | null }): Promise<number> {
  checkLength('chemicalDatabase.fileName', c.fileName, 255);
  checkLength('chemicalDatabase.origin', c.origin, 50);
  return insertOrGetId(em, 'chemical_databases', { chem_rates_file_name: c.fileName, chem_rates_full_path: c.fullPath, database_origin: c.origin });
}

export interface ExecutableIdentity {
  fileName: string;
  fullPath: string | null;
  sha256: string | null;
  revision: string | null;
  compilationDate: string | null;
  comment?: string | null;
}

/** kosmatau_executables by its five identity fields (NULLs included) through the generated identity_sha. */
export async function upsertExecutable(em: Em, x: ExecutableIdentity): Promise<number> {
  checkLength('executable.fileName', x.fileName, 255);
  checkLength('executable.revision', x.revision, 50);
  checkLength('executable.comment', x.comment, 250);
  // compilation_date is a DATETIME without fractions (as pdr_run's): drop milliseconds so the
  // identity does not depend on how the runner formatted the date.
  const compiled = x.compilationDate === null ? null : toDbTime(x.compilationDate, 'executable.compilationDate').slice(0, 19);
  return insertOrGetId(em, 'kosmatau_executables', {
      code_revision: x.revision,
      compilation_date: compiled,
      executable_file_name: x.fileName,
      executable_full_path: x.fullPath,
      sha256_sum: x.sha256,
    comment: x.comment ?? null,
  });
}
