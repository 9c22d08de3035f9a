/**
 * Use case "legacy import" (`pdr db import`, issue 14): one batch of rows of one pdr_run table, read by
 * the CLI from a pdr_run SQLite file. In one transaction, per row:
 *  - imported before from the same file (legacy_import_rows)? nothing to do (a second import = none);
 *  - its references (model name, parameters, job …) mapped to the rows they became;
 *  - kosmatau_parameters: the canonical identity of @pdr/domain (legacyParameterIdentity: recomputed
 *    from the encoded grid strings of its jobs' names, matched within FLOAT precision), so a
 *    resubmitted grid finds the points; jobs: pdr_run's statuses mapped as by `pdr db upgrade`;
 *  - a row whose natural identity (this schema's unique keys) exists already is merged into it: the
 *    existing row stays, the imported one is kept as JSON in legacy_merges; else it is inserted;
 *  - the mapping recorded in legacy_import_rows.
 * The CLI sends the tables in reference order and a table's jobs best status first, so pdr_run's
 * duplicate jobs merge into the finished one, as the upgrade merges them.
 */
import { ContractError, LegacyImportReply, LegacyTable, RpcRequestParsed } from '@pdr/contracts';
import { legacyParameterIdentity } from '@pdr/domain';
import { LockMode } from '@mikro-orm/core';
import { adoptLegacyJobs, Em, LegacyImportRow, LegacyMerge, mapLegacyStatus, MERGE_SPECS, PdrModelJob, transaction } from '@pdr/persistence';

type Cell = string | number | null;
type LegacyRow = Record<string, Cell>;

/** Columns referencing other pdr_run tables, per table: column → referenced table. */
const REFS: Readonly<Record<LegacyTable, Readonly<Record<string, LegacyTable>>>> = {
  model_names: {},
  users: {},
  kosmatau_executables: {},
  chemical_databases: {},
  kosmatau_parameters: { model_name_id: 'model_names' },
  json_templates: {},
  pdr_model_jobs: {
    model_name_id: 'model_names',
    user_id: 'users',
    kosmatau_parameters_id: 'kosmatau_parameters',
    kosmatau_executable_id: 'kosmatau_executables',
    chemical_database_id: 'chemical_databases',
  },
  hdf_files: { job_id: 'pdr_model_jobs', pdrexe_id: 'kosmatau_executables', parameter_id: 'kosmatau_parameters', model_name_id: 'model_names' },
  json_files: { job_id: 'pdr_model_jobs', template_id: 'json_templates' },
};

/** Natural key columns per table (json_templates: its unique sha256_sum). */
function keyColumns(table: LegacyTable): readonly string[] {
  if (table === 'json_templates') return ['sha256_sum'];
  return MERGE_SPECS.find((s) => s.table === table)!.keyColumns;
}

/** The entity of a pdr_run table. */
function entityOf(em: Em, table: LegacyTable): string {
  return Object.values(em.getMetadata().getAll()).find((m) => m.tableName === table)!.className;
}

/** Columns an imported row may set: the table's columns (its entity's), but not id and generated ones. */
function writableColumns(em: Em, table: LegacyTable): Set<string> {
  const meta = Object.values(em.getMetadata().getAll()).find((m) => m.tableName === table)!;
  return new Set(meta.props.filter((p) => !p.generated && p.name !== 'id').flatMap((p) => p.fieldNames));
}

export async function importLegacyRows(em: Em, req: RpcRequestParsed<'legacyImport'>): Promise<LegacyImportReply> {
  return transaction(em, (tem) => importBatch(tem, req));
}

async function importBatch(em: Em, req: RpcRequestParsed<'legacyImport'>): Promise<LegacyImportReply> {
  const { table, source } = req;
  const reply: LegacyImportReply = { inserted: 0, merged: 0, skipped: 0, orphans: [] };
  const ids = req.rows.map((r) => r.id as number);
  const done = new Set(
    (
      await em
        .createQueryBuilder(LegacyImportRow)
        .select('legacy_id')
        .where({ source, table_name: table, legacy_id: { $in: ids } })
        .setLockMode(LockMode.PESSIMISTIC_WRITE)
        .execute<{ legacy_id: number }[]>('all', false)
    ).map((r) => r.legacy_id),
  );
  const refMaps = await referenceMaps(em, source, table, req.rows);
  const writable = writableColumns(em, table);
  for (let i = 0; i < req.rows.length; i++) {
    const legacy = req.rows[i];
    const legacyId = legacy.id as number;
    if (done.has(legacyId)) {
      reply.skipped++;
      continue;
    }
    try {
      const values = await rowValues(em, req, legacy, i, refMaps, reply, writable);
      const existing = await findExisting(em, table, values);
      let rowId: number;
      let merged = false;
      if (existing !== undefined) {
        rowId = existing;
        merged = true;
        await em
          .createQueryBuilder(LegacyMerge)
          .insert({ table_name: table, merged_id: legacyId, survivor_id: rowId, merged_row: legacy, source: `import:${source}` })
          .onConflict(['source', 'table_name', 'merged_id'])
          .merge(['survivor_id'])
          .execute('run');
        reply.merged++;
      } else {
        const res = await em.createQueryBuilder(entityOf(em, table)).insert(values).execute('run');
        rowId = Number(res.insertId);
        reply.inserted++;
      }
      await em.createQueryBuilder(LegacyImportRow).insert({ source, table_name: table, legacy_id: legacyId, row_id: rowId, merged }).execute('run');
      refMaps.get(table)?.set(legacyId, rowId);
    } catch (err) {
      if (err instanceof ContractError) throw err;
      throw new ContractError('BAD_REQUEST', `${table} row id ${legacyId}: ${(err as Error).message}`, { table, id: legacyId });
    }
  }
  if (table === 'pdr_model_jobs') {
    // pdr_run had no grids: its jobs join the legacy grid of their model name (pdr status <model>)
    const models = [...new Set(req.rows.map((r) => refMaps.get('model_names')?.get(r.model_name_id as number)).filter((m): m is number => m !== undefined))];
    if (models.length) await adoptLegacyJobs(em, models);
  }
  return reply;
}

/** legacy id → row id of every table the batch's rows reference (and of the table itself, for links). */
async function referenceMaps(em: Em, source: string, table: LegacyTable, rows: readonly LegacyRow[]): Promise<Map<string, Map<number, number>>> {
  const wanted = new Map<string, Set<number>>();
  for (const [col, refTable] of Object.entries(REFS[table])) {
    const set = wanted.get(refTable) ?? new Set<number>();
    for (const r of rows) if (typeof r[col] === 'number') set.add(r[col] as number);
    wanted.set(refTable, set);
  }
  const maps = new Map<string, Map<number, number>>();
  for (const [refTable, set] of wanted) {
    const list = [...set];
    const m = new Map<number, number>();
    if (list.length) {
      const found = await em
        .createQueryBuilder(LegacyImportRow)
        .select(['legacy_id', 'row_id'])
        .where({ source, table_name: refTable, legacy_id: { $in: list } })
        .execute<{ legacy_id: number; row_id: number }[]>('all', false);
      for (const r of found) m.set(r.legacy_id, r.row_id);
    }
    maps.set(refTable, m);
  }
  if (!maps.has(table)) maps.set(table, new Map());
  return maps;
}

async function rowValues(
  em: Em,
  req: RpcRequestParsed<'legacyImport'>,
  legacy: LegacyRow,
  index: number,
  refMaps: Map<string, Map<number, number>>,
  reply: LegacyImportReply,
  writable: Set<string>,
): Promise<Record<string, Cell>> {
  const { table } = req;
  const values: Record<string, Cell> = {};
  for (const [k, v] of Object.entries(legacy)) if (writable.has(k)) values[k] = v;
  for (const [col, refTable] of Object.entries(REFS[table])) {
    const v = legacy[col];
    if (typeof v !== 'number') continue;
    const mapped = refMaps.get(refTable)?.get(v);
    if (mapped === undefined) {
      reply.orphans.push({ id: legacy.id as number, reason: `${col} ${v}: no such ${refTable} row in the file; stored as NULL` });
      values[col] = null;
    } else {
      values[col] = mapped;
    }
  }
  switch (table) {
    case 'model_names':
      if (req.modelName) values.model_name = req.modelName;
      break;
    case 'kosmatau_parameters': {
      const id = legacyParameterIdentity(legacy, req.jobNames?.[index] ?? []);
      Object.assign(values, id.row);
      values.parameter_hash = id.hash;
      break;
    }
    case 'pdr_model_jobs': {
      const m = mapLegacyStatus(typeof legacy.status === 'string' ? legacy.status : null);
      values.status = m.status;
      values.reason = m.reason;
      values.pending = 0;
      values.active = 0;
      break;
    }
    case 'hdf_files':
      if (values.job_id === null || values.job_id === undefined) values.job_id = (await freeJobOf(em, values)) ?? null;
      break;
    default:
      break;
  }
  return values;
}

/** pdr_run left hdf_files.job_id NULL on most rows: the job of its (model, parameters), when that job has no row yet. */
async function freeJobOf(em: Em, values: Record<string, Cell>): Promise<number | undefined> {
  if (typeof values.model_name_id !== 'number' || typeof values.parameter_id !== 'number') return undefined;
  const [job] = await em
    .createQueryBuilder(PdrModelJob, 'j')
    .select('j.id')
    .where({ model_name_id: values.model_name_id, kosmatau_parameters_id: values.parameter_id })
    .andWhere('not exists (select 1 from hdf_files h where h.job_id = j.id)')
    .execute<{ id: number }[]>('all', false);
  return job?.id;
}

/** The existing row with the same natural key (NULL in a key column: none, as the unique keys allow). */
async function findExisting(em: Em, table: LegacyTable, values: Record<string, Cell>): Promise<number | undefined> {
  const cols = keyColumns(table);
  const keyValues = cols.map((c) => values[c] ?? null);
  if (table !== 'kosmatau_executables' && table !== 'chemical_databases' && keyValues.some((v) => v === null)) return undefined;
  // executables and chemistry: identity over every field, NULLs included (their identity_sha): a NULL
  // key value matches NULL (IS NULL), as `<=>` did
  const [row] = await em
    .createQueryBuilder(entityOf(em, table))
    .select('id')
    .where(Object.fromEntries(cols.map((c, i) => [c, keyValues[i]])))
    .orderBy({ id: 'asc' })
    .limit(1)
    .setLockMode(LockMode.PESSIMISTIC_WRITE)
    .execute<{ id: number }[]>('all', false);
  return row?.id;
}
