/**
 * `pdr db upgrade` (issue 14): brings a database that pdr_run created (MySQL/MariaDB, its nine tables
 * as SQLAlchemy's create_all made them: FLOAT columns, no unique keys, duplicate job rows) in place to
 * this project's schema, keeping every row:
 *
 *   tables to utf8mb4_bin → column types of the entities (FLOAT → DOUBLE, VARCHAR paths and
 *   species → TEXT, INT sizes → BIGINT, DATETIME → DATETIME(3)) and their new columns → the new tables →
 *   legacy statuses mapped → canonical parameter identity (legacyParameterIdentity) → duplicates merged
 *   (references re-pointed to the surviving row, the merged rows kept in legacy_merges) → pdr_run's
 *   own indexes and foreign keys replaced by this project's unique keys and foreign keys → every
 *   migration recorded as applied (the schema is the entities', which the migrations give a new database).
 *
 * Every step is idempotent and reads the database's current state before acting, so an upgrade
 * killed at any point completes when it is run again; the schema counts as upgraded only at the last
 * step, and until then the state service refuses to start on it (assertNotLegacy), so nothing ever
 * works on a half-migrated database. Runs while holding the migration lock, and refuses to start
 * while any other connection uses the database (information_schema.PROCESSLIST: a state service,
 * pdr_run, a client; seeing other users' connections needs the PROCESS privilege).
 */
import { Migrator } from '@mikro-orm/migrations';
import { legacyParameterIdentity, KOSMATAU_PARAMETER_DEFAULTS } from '@pdr/domain';
import { JOB_STATUSES } from '@pdr/contracts';
import { createOrm, Em, migrateUp, Orm } from '../orm';
import { DatabaseSettings, describeDatabase } from '../settings';
import { all, ident, literalList, one, run, runLiteral, sqlLiteral, transaction } from '../sql';
import { MIGRATIONS } from '../migrations';
import { gridCountTriggers, reseedGridCounts } from '../grid-counts';
import { addToRemap, KeyRow, MERGE_SPECS, MergeSpec, planTableMerges, Remap, TableMerges } from './merge-plan';
import { PDR_RUN_TABLES, targetTable, targetTables } from './target-schema';
import { inspectSchema, INITIAL_MIGRATION } from './detect';
import { adoptLegacyJobs } from './legacy-grid';


export interface UpgradeOptions {
  dryRun?: boolean;
  /** One line of the report. */
  out: (line: string) => void;
}

export interface UpgradeResult {
  /** 0 done (or nothing to do), 2 refused (not a pdr_run schema, database in use). */
  exitCode: number;
}

interface ColumnInfo {
  name: string;
  type: string;
  generated: boolean;
}

async function columnsOf(em: Em, table: string): Promise<Map<string, ColumnInfo>> {
  const rows = await all<{ c: string; t: string; g: string | null }>(
    em,
    'SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t, IS_GENERATED AS g FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  );
  return new Map(rows.map((r) => [r.c.toLowerCase(), { name: r.c, type: r.t.toLowerCase(), generated: r.g === 'ALWAYS' }]));
}

async function tableNames(em: Em): Promise<Set<string>> {
  return new Set((await all<{ t: string }>(em, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()')).map((r) => r.t));
}

/** The type a target definition gives (`DOUBLE`, `TEXT`, `VARCHAR(512)` …), lower case. */
function targetType(def: string): string {
  return def.split(' ')[1].toLowerCase();
}

function normaliseType(t: string): string {
  return t.replace(/^int\(\d+\)/, 'int').replace(/^bigint\(\d+\)/, 'bigint').replace(/^tinyint\(1\)/, 'tinyint(1)');
}

const FLOAT_COLUMNS = KOSMATAU_PARAMETER_DEFAULTS.filter((c) => c.kind === 'float').map((c) => c.name);
const PHYSICS_COLUMNS = KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name);
/**
 * Statuses kept as they are; every other pdr_run status becomes failed with the old one in `reason`:
 * pending/running rows are jobs pdr_run left behind (no runner holds them; as pending the reconciler
 * would publish events for jobs that belong to no grid), ERROR, exception_…, failed_storage are failures.
 */
export const KEPT_STATUSES: readonly string[] = ['finished', 'problem', 'skipped', 'failed', 'cancelled'];

/** The status and reason a pdr_run job gets here (the SQL of the upgrade does the same). */
export function mapLegacyStatus(status: string | null): { status: string; reason: string | null } {
  if (status !== null && KEPT_STATUSES.includes(status)) return { status, reason: null };
  return { status: 'failed', reason: `pdr_run left status ${status === null ? 'NULL' : `'${status}'`}; \`pdr run --retry-failed\` runs it again` };
}
const BATCH = 500;

/** The backup command (the password is asked for by the client, never printed). */
export function backupCommand(s: DatabaseSettings): string {
  return `mariadb-dump --single-transaction -h ${s.host} -P ${s.port} -u ${s.user}${s.password ? ' -p' : ''} ${s.database} > ${s.database}-before-upgrade.sql`;
}

interface Step {
  name: string;
  run: (em: Em) => Promise<string | undefined>;
}

/**
 * `pdr db upgrade [--dry-run]` against `settings`. Prints what it finds and does through `out`; throws
 * on database errors (the steps done so far stay done; running it again continues).
 */
export async function upgradeDatabase(settings: DatabaseSettings, opts: UpgradeOptions): Promise<UpgradeResult> {
  const out = opts.out;
  const db = describeDatabase(settings);
  const orm = await createOrm(settings, { poolMax: 1, lockWaitTimeoutS: 50 });
  let lockOrm: Orm | undefined;
  try {
    const em = orm.em.fork();
    const state = await inspectSchema(em);
    if (state.kind === 'empty') {
      out(`${db}: no pdr_run tables; nothing to upgrade (the state service creates this project's schema at start)`);
      return { exitCode: 0 };
    }
    if (state.kind === 'unknown') {
      out(`${db}: some of pdr_run's tables are missing (${state.missing.join(', ')}); this is not a database pdr_run created, nothing was changed`);
      return { exitCode: 2 };
    }
    if (state.kind === 'current') {
      out(`${db}: already this project's schema; nothing to upgrade`);
      if (!opts.dryRun) {
        await orm.close(true);
        const full = await createOrm(settings, { poolMax: 2 });
        try {
          const applied = await migrateUp(full);
          if (applied.length) out(`applied migrations: ${applied.join(', ')}`);
        } finally {
          await full.close(true);
        }
      }
      return { exitCode: 0 };
    }

    const others = await otherConnections(em);
    if (others.length) {
      out(
        `${db} is in use by ${others.length} other connection(s) (${others.slice(0, 5).join('; ')}): stop pdr_run and every state service on it first; nothing was changed`,
      );
      return { exitCode: 2 };
    }

    out(`${db}: pdr_run's schema (${state.tables.filter((t) => (PDR_RUN_TABLES as readonly string[]).includes(t)).length} of its 9 tables)`);
    out(`back it up first: ${backupCommand(settings)}`);
    await report(em, out);
    if (opts.dryRun) {
      out('dry run: nothing was changed');
      return { exitCode: 0 };
    }

    // the migration lock (as migrateUp): state services starting meanwhile wait, then refuse (legacy schema)
    lockOrm = await createOrm(settings, { poolMax: 1 });
    const lockEm = lockOrm.em.fork();
    const lockName = `pdr_migrations_${settings.database}`;
    const got = await one<{ got: number | null }>(lockEm, 'SELECT GET_LOCK(?, 10) AS got', [lockName]);
    if (got?.got !== 1) {
      out(`another process holds the migration lock ${lockName}; nothing was changed`);
      return { exitCode: 2 };
    }
    const steps = upgradeSteps();
    for (let i = 0; i < steps.length; i++) {
      out(`step ${i + 1}/${steps.length + 1}: ${steps[i].name}`);
      const note = await steps[i].run(em);
      if (note) out(`  ${note}`);
    }
    await one(lockEm, 'SELECT RELEASE_LOCK(?) AS r', [lockName]);
    out(`step ${steps.length + 1}/${steps.length + 1}: record the schema version (every migration) and apply any later ones`);
    await orm.close(true);
    const full = await createOrm(settings, { poolMax: 2 });
    try {
      const storage = (full.getMigrator() as unknown as Migrator).getStorage();
      await storage.ensureTable();
      const executed = await storage.executed();
      // the initial migration last: once it is recorded, the database counts as upgraded (detect.ts)
      for (const m of [...MIGRATIONS.filter((x) => x.name !== INITIAL_MIGRATION), MIGRATIONS.find((x) => x.name === INITIAL_MIGRATION)!]) {
        if (!executed.includes(m.name)) await storage.logMigration({ name: m.name, context: null } as never);
      }
      const applied = await migrateUp(full);
      if (applied.length) out(`  applied migrations: ${applied.join(', ')}`);
    } finally {
      await full.close(true);
    }
    out(`upgrade done: ${db} now has this project's schema; start the state service on it`);
    return { exitCode: 0 };
  } finally {
    await orm.close(true).catch(() => undefined);
    await lockOrm?.close(true).catch(() => undefined);
  }
}

async function otherConnections(em: Em): Promise<string[]> {
  const rows = await all<{ id: number; user: string; host: string; command: string }>(
    em,
    'SELECT ID AS id, USER AS user, HOST AS host, COMMAND AS command FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
  );
  return rows.map((r) => `id ${r.id} ${r.user}@${String(r.host).replace(/:\d+$/, '')} ${r.command}`);
}

// ------------------------------------------------------------------------------------------ report

async function report(em: Em, out: (line: string) => void): Promise<void> {
  const tables = await tableNames(em);
  const counts: string[] = [];
  for (const t of PDR_RUN_TABLES) {
    if (!tables.has(t)) continue;
    const n = await one<{ n: number }>(em, `SELECT COUNT(*) AS n FROM ${ident(t)}`);
    counts.push(`${t} ${Number(n?.n ?? 0)}`);
  }
  out(`rows: ${counts.join(', ')}`);

  const changes: string[] = [];
  const added: string[] = [];
  for (const t of PDR_RUN_TABLES) {
    const target = targetTable(em, t);
    const cols = tables.has(t) ? await columnsOf(em, t) : new Map<string, ColumnInfo>();
    const byChange = new Map<string, string[]>();
    for (const c of target.columns) {
      const have = cols.get(c.name.toLowerCase());
      if (!have) {
        added.push(`${t}.${c.name}`);
        continue;
      }
      if (c.generated) continue;
      const from = normaliseType(have.type);
      const to = targetType(c.def);
      if (from === to) continue;
      const k = `${from} → ${to}`;
      byChange.set(k, [...(byChange.get(k) ?? []), c.name]);
    }
    for (const [k, names] of byChange) changes.push(`  ${t}: ${k}: ${names.length > 6 ? `${names.length} columns (${names.slice(0, 4).join(', ')}, …)` : names.join(', ')}`);
  }
  out('column type changes (values kept):');
  for (const c of changes) out(c);
  out(`new columns: ${added.join(', ') || 'none'}`);
  out(`new tables: ${[...targetTables(em).keys()].filter((t) => !tables.has(t)).join(', ')}`);

  const statuses = await all<{ s: string | null; n: number }>(em, 'SELECT status AS s, COUNT(*) AS n FROM pdr_model_jobs GROUP BY status ORDER BY status');
  out(
    `job statuses: ${statuses.map((r) => (r.s !== null && KEPT_STATUSES.includes(r.s) ? `${r.s} ${r.n} (kept)` : `${JSON.stringify(r.s)} ${r.n} → failed`)).join(', ') || 'no jobs'}`,
  );

  const unlinked = await one<{ n: number }>(em, 'SELECT COUNT(*) AS n FROM hdf_files WHERE job_id IS NULL');
  if (Number(unlinked?.n ?? 0) > 0) out(`hdf_files without job_id: ${Number(unlinked?.n)} (each linked to the job of its model and parameters, if that job has none)`);
  // the merges, simulated in memory: the later tables' keys see the earlier tables' survivors
  const remap: Remap = new Map();
  const identities = await parameterIdentities(em, false);
  const sources = new Map<string, number>();
  for (const i of identities.values()) sources.set(i.source, (sources.get(i.source) ?? 0) + 1);
  out(
    `parameter identity: ${[...sources].map(([s, n]) => `${n} row(s) by ${s === 'job-name' ? 'the encoded grid strings of the job name' : s === 'values' ? 'grid strings re-encoded from the values' : 'the stored values'}`).join(', ') || 'no rows'}`,
  );
  out('duplicates merged into one row (references re-pointed to the survivor; merged rows kept in legacy_merges):');
  let any = false;
  for (const spec of MERGE_SPECS) {
    const rows = await keyRows(em, spec, identities);
    if (spec.table === 'hdf_files') linkHdfRowsInMemory(rows, remap, await jobsByParameter(em, remap));
    const plan = planTableMerges(spec, rows, remap);
    addToRemap(remap, plan);
    if (!plan.merges.length) continue;
    any = true;
    out(`  ${spec.table} ${spec.keyText}: ${plan.merges.length} row(s) into ${plan.groups.length}: ${describeMerges(plan)}`);
  }
  if (!any) out('  none');
  out('unique keys added: ' + PDR_RUN_TABLES.flatMap((t) => targetTable(em, t).indexes.filter((i) => i.kind === 'unique').map((i) => `${t}${i.def.slice(i.def.indexOf('('))}`)).join(', '));
}

function describeMerges(plan: TableMerges): string {
  const shown = plan.groups.slice(0, 10).map((g) => `${g.mergedIds.join('+')} → ${g.survivorId}`);
  return shown.join(', ') + (plan.groups.length > 10 ? `, … (${plan.groups.length - 10} more)` : '');
}

// ------------------------------------------------------------------------------------------ reads

interface Identity {
  hash: string;
  source: string;
  row: Readonly<Record<string, unknown>>;
}

/**
 * Canonical identities of parameter rows. `onlyMissing`: rows without parameter_hash (the upgrade),
 * else all rows (the dry run: the hash stored if any, else computed).
 */
async function parameterIdentities(em: Em, onlyMissing: boolean, limit?: number): Promise<Map<number, Identity>> {
  const cols = await columnsOf(em, 'kosmatau_parameters');
  const hasHash = cols.has('parameter_hash');
  const select = PHYSICS_COLUMNS.filter((c) => cols.has(c.toLowerCase()))
    .map((c) => (FLOAT_COLUMNS.includes(c) ? `CAST(${ident(c)} AS DOUBLE) AS ${ident(c)}` : ident(c)))
    .join(', ');
  const where = hasHash ? (onlyMissing ? 'WHERE parameter_hash IS NULL' : '') : '';
  const rows = await all<Record<string, unknown> & { id: number; parameter_hash?: string | null }>(
    em,
    `SELECT id, ${hasHash ? 'parameter_hash, ' : ''}${select} FROM kosmatau_parameters ${where} ORDER BY id${limit ? ` LIMIT ${Number(limit)}` : ''}`,
  );
  const out = new Map<number, Identity>();
  if (!rows.length) return out;
  const names = new Map<number, string[]>();
  for (const part of chunked(rows.map((r) => r.id), 5000)) {
    for (const j of await all<{ p: number; n: string }>(
      em,
      `SELECT kosmatau_parameters_id AS p, model_job_name AS n FROM pdr_model_jobs WHERE kosmatau_parameters_id IN (${literalList(part)}) ORDER BY id`,
    )) {
      names.set(j.p, [...(names.get(j.p) ?? []), j.n]);
    }
  }
  for (const r of rows) {
    if (!onlyMissing && r.parameter_hash) {
      out.set(r.id, { hash: r.parameter_hash, source: 'stored hash', row: r });
      continue;
    }
    const id = legacyParameterIdentity(r, names.get(r.id) ?? []);
    out.set(r.id, { hash: id.hash, source: id.source, row: id.row });
  }
  return out;
}

function chunked<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

async function keyRows(em: Em, spec: MergeSpec, identities?: Map<number, Identity>): Promise<KeyRow[]> {
  const tables = await tableNames(em);
  if (!tables.has(spec.table)) return [];
  const cols = await columnsOf(em, spec.table);
  const select = ['id', ...(spec.table === 'pdr_model_jobs' ? ['status'] : []), ...(spec.table === 'hdf_files' ? ['parameter_id', 'model_name_id'] : [])];
  for (const c of spec.keyColumns) {
    if (c === 'parameter_hash' && identities) continue;
    if (!cols.has(c)) continue;
    select.push(c === 'compilation_date' ? `CAST(${ident(c)} AS CHAR) AS ${ident(c)}` : ident(c));
  }
  const rows = await all<KeyRow>(em, `SELECT ${select.join(', ')} FROM ${ident(spec.table)} ORDER BY id`);
  if (spec.table === 'kosmatau_parameters' && identities) {
    for (const r of rows) r.parameter_hash = identities.get(r.id)?.hash ?? null;
  }
  return rows;
}

/** (model_name_id, kosmatau_parameters_id) → the surviving job id, after the job merges in `remap`. */
async function jobsByParameter(em: Em, remap: Remap): Promise<Map<string, number>> {
  const rows = await all<{ id: number; m: number | null; p: number | null }>(em, 'SELECT id, model_name_id AS m, kosmatau_parameters_id AS p FROM pdr_model_jobs ORDER BY id');
  const out = new Map<string, number>();
  const map = (t: string, v: number | null) => (v === null ? null : (remap.get(t)?.get(v) ?? v));
  for (const r of rows) {
    const id = map('pdr_model_jobs', r.id)!;
    const k = `${map('model_names', r.m)}/${map('kosmatau_parameters', r.p)}`;
    if (!out.has(k)) out.set(k, id);
  }
  return out;
}

/** The dry run's view of the link step: hdf_files rows without job_id get the job of their (model, parameters). */
function linkHdfRowsInMemory(rows: KeyRow[], remap: Remap, jobs: Map<string, number>): void {
  const taken = new Set(rows.filter((r) => r.job_id !== null && r.job_id !== undefined).map((r) => remap.get('pdr_model_jobs')?.get(Number(r.job_id)) ?? Number(r.job_id)));
  for (const r of rows) {
    if (r.job_id !== null && r.job_id !== undefined) continue;
    const m = r.model_name_id === null ? null : (remap.get('model_names')?.get(Number(r.model_name_id)) ?? Number(r.model_name_id));
    const p = r.parameter_id === null ? null : (remap.get('kosmatau_parameters')?.get(Number(r.parameter_id)) ?? Number(r.parameter_id));
    const job = jobs.get(`${m}/${p}`);
    if (job !== undefined && !taken.has(job)) {
      r.job_id = job;
      taken.add(job);
    }
  }
}

// ------------------------------------------------------------------------------------------ steps

function upgradeSteps(): Step[] {
  return [
    { name: 'create legacy_merges (the record of merged rows)', run: async (em) => void (await runLiteral(em, ifNotExists(targetTable(em, 'legacy_merges').create))) },
    { name: 'tables to utf8mb4_bin (names and paths compare case-sensitively, as on disk)', run: convertCharset },
    { name: "column types and new columns of this project's schema", run: convertColumns },
    { name: 'new tables (grids, grid_points, grid_executables, job_attempts, job_steps, job_files, installation, …)', run: createNewTables },
    { name: "pdr_run's job statuses mapped to this project's", run: mapStatuses },
    { name: 'canonical parameter identity (parameter_hash)', run: fillParameterHashes },
    ...MERGE_SPECS.flatMap((spec): Step[] => [
      ...(spec.table === 'hdf_files' ? [{ name: 'hdf_files without job_id linked to the job of their (model, parameters)', run: linkHdfFiles }] : []),
      { name: `merge duplicate ${spec.table} ${spec.keyText}`, run: (em: Em) => mergeTable(em, spec) },
    ]),
    { name: 'a grid per model name holding its pdr_run jobs (pdr status <model>, pdr jobs)', run: async (em) => `${await adoptLegacyJobs(em)} job(s) adopted` },
    { name: "pdr_run's own indexes and foreign keys dropped", run: dropLegacyKeys },
    { name: "this project's unique keys, indexes and foreign keys added", run: addTargetKeys },
    { name: 'grid counts: their triggers, and the counts of the adopted jobs', run: countGrids },
  ];
}

/** After the adoption (which moves jobs into grids): the triggers, then every count afresh (safe to repeat). */
async function countGrids(em: Em): Promise<string | undefined> {
  for (const sql of [...gridCountTriggers(), ...reseedGridCounts()]) await runLiteral(em, sql);
  return undefined;
}

async function convertCharset(em: Em): Promise<string | undefined> {
  const rows = await all<{ t: string; c: string }>(
    em,
    `SELECT TABLE_NAME AS t, TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${literalList([...PDR_RUN_TABLES])})`,
  );
  const todo = rows.filter((r) => r.c !== 'utf8mb4_bin').map((r) => r.t);
  for (const t of todo) await runLiteral(em, `ALTER TABLE ${ident(t)} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  return todo.length ? `converted: ${todo.join(', ')}` : undefined;
}

async function convertColumns(em: Em): Promise<string | undefined> {
  const tables = await tableNames(em);
  const done: string[] = [];
  for (const t of PDR_RUN_TABLES) {
    const target = targetTable(em, t);
    if (!tables.has(t)) {
      // pdr_run versions without json_templates/json_files: created complete, keys come with them
      await runLiteral(em, ifNotExists(target.create).replace(/,\n\s*CONSTRAINT [^\n]*/g, ''));
      done.push(`${t} (created)`);
      continue;
    }
    const cols = await columnsOf(em, t);
    const parts: string[] = [];
    for (const c of target.columns) {
      const have = cols.get(c.name.toLowerCase());
      if (c.name === 'parameter_hash') {
        // filled by the identity step, NOT NULL with the unique key
        if (!have) parts.push('ADD COLUMN parameter_hash CHAR(64) NULL DEFAULT NULL');
        continue;
      }
      if (!have) parts.push(`ADD COLUMN ${c.def}`);
      else if (!c.generated) parts.push(`MODIFY COLUMN ${c.def}`);
    }
    if (parts.length) await runLiteral(em, `ALTER TABLE ${ident(t)} ${parts.join(', ')}`);
    done.push(t);
  }
  return `altered: ${done.join(', ')}`;
}

function ifNotExists(create: string): string {
  return create.replace(/^CREATE TABLE /, 'CREATE TABLE IF NOT EXISTS ');
}

async function createNewTables(em: Em): Promise<string | undefined> {
  const tables = await tableNames(em);
  const created: string[] = [];
  for (const t of targetTables(em).values()) {
    if ((PDR_RUN_TABLES as readonly string[]).includes(t.name) || tables.has(t.name)) continue;
    await runLiteral(em, ifNotExists(t.create));
    created.push(t.name);
  }
  // the identity of this database (what the Installation migration writes on a new one)
  await runLiteral(em, 'INSERT IGNORE INTO installation (id, uuid) VALUES (1, UUID())');
  return created.length ? `created: ${created.join(', ')}` : undefined;
}

async function mapStatuses(em: Em): Promise<string | undefined> {
  const kept = literalList(KEPT_STATUSES);
  // single-table UPDATE: assignments left to right, so reason sees the old status
  const mapped = await runLiteral(
    em,
    `UPDATE pdr_model_jobs SET time_updated = time_updated, reason = CONCAT('pdr_run left status ', COALESCE(QUOTE(status), 'NULL'), '; \`pdr run --retry-failed\` runs it again'),
       status = 'failed' WHERE status IS NULL OR status NOT IN (${kept})`,
  );
  for (const s of KEPT_STATUSES) if (!(JOB_STATUSES as readonly string[]).includes(s)) throw new Error(`status ${s} is not in the contract`);
  const flags = await runLiteral(em, 'UPDATE pdr_model_jobs SET time_updated = time_updated, pending = 0, active = 0 WHERE NOT (pending <=> 0 AND active <=> 0)');
  return `${mapped.affectedRows} job(s) → failed, ${flags.affectedRows} job(s) had their pending/active flags set to 0 (terminal)`;
}

async function fillParameterHashes(em: Em): Promise<string | undefined> {
  let total = 0;
  for (;;) {
    const ids = await parameterIdentities(em, true, BATCH);
    if (!ids.size) break;
    await transaction(em, async (tem) => {
      for (const [id, identity] of ids) {
        const sets = FLOAT_COLUMNS.map((c) => `${ident(c)} = ${sqlLiteral((identity.row[c] as number | null) ?? null)}`);
        await runLiteral(tem, `UPDATE kosmatau_parameters SET ${sets.join(', ')}, parameter_hash = ${sqlLiteral(identity.hash)} WHERE id = ${sqlLiteral(id)} AND parameter_hash IS NULL`);
      }
    });
    total += ids.size;
  }
  return `${total} row(s) got their canonical values and hash`;
}

async function linkHdfFiles(em: Em): Promise<string | undefined> {
  // pdr_run left job_id NULL on most rows; a job gets at most one (the lowest id; the others keep NULL)
  const candidates = await all<{ id: number; job: number }>(
    em,
    `SELECT h.id, j.id AS job FROM hdf_files h
       JOIN pdr_model_jobs j ON j.model_name_id = h.model_name_id AND j.kosmatau_parameters_id = h.parameter_id
     WHERE h.job_id IS NULL ORDER BY h.id`,
  );
  if (!candidates.length) return undefined;
  const taken = new Set((await all<{ j: number }>(em, 'SELECT job_id AS j FROM hdf_files WHERE job_id IS NOT NULL')).map((r) => r.j));
  let linked = 0;
  for (const c of candidates) {
    if (taken.has(c.job)) continue;
    taken.add(c.job);
    linked += (await run(em, 'UPDATE hdf_files SET job_id = ? WHERE id = ? AND job_id IS NULL', [c.job, c.id])).affectedRows;
  }
  return `${linked} row(s) linked`;
}

async function mergeTable(em: Em, spec: MergeSpec): Promise<string | undefined> {
  const plan = planTableMerges(spec, await keyRows(em, spec));
  if (!plan.merges.length) return undefined;
  const tables = await tableNames(em);
  const refs = spec.references.filter((r) => tables.has(r.table));
  for (const part of chunked(plan.merges, 200)) {
    await transaction(em, async (tem) => {
      for (const m of part) {
        const row = await one<Record<string, unknown>>(tem, `SELECT * FROM ${ident(spec.table)} WHERE id = ? FOR UPDATE`, [m.mergedId]);
        if (!row) continue; // merged by an earlier, interrupted run
        await run(
          tem,
          `INSERT INTO legacy_merges (table_name, merged_id, survivor_id, merged_row, source) VALUES (?, ?, ?, ?, 'upgrade')
           ON DUPLICATE KEY UPDATE survivor_id = VALUES(survivor_id), merged_row = VALUES(merged_row)`,
          [spec.table, m.mergedId, m.survivorId, JSON.stringify(row, jsonValue)],
        );
        for (const r of refs) {
          // pdr_run's time_updated is kept (the column has ON UPDATE CURRENT_TIMESTAMP here)
          const keep = r.table === 'pdr_model_jobs' ? 'time_updated = time_updated, ' : '';
          await run(tem, `UPDATE ${ident(r.table)} SET ${keep}${ident(r.column)} = ? WHERE ${ident(r.column)} = ?`, [m.survivorId, m.mergedId]);
        }
        await run(tem, `DELETE FROM ${ident(spec.table)} WHERE id = ?`, [m.mergedId]);
      }
    });
  }
  return `${plan.merges.length} row(s) merged into ${plan.groups.length}: ${describeMerges(plan)}`;
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return v;
}

async function indexesOf(em: Em, table: string): Promise<{ foreign: Set<string>; indexes: Set<string> }> {
  const fks = await all<{ n: string }>(
    em,
    'SELECT CONSTRAINT_NAME AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table],
  );
  const idx = await all<{ n: string }>(em, 'SELECT DISTINCT INDEX_NAME AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table]);
  return { foreign: new Set(fks.map((r) => r.n)), indexes: new Set(idx.map((r) => r.n)) };
}

async function dropLegacyKeys(em: Em): Promise<string | undefined> {
  const dropped: string[] = [];
  for (const t of PDR_RUN_TABLES) {
    const wanted = new Set(targetTable(em, t).indexes.map((i) => i.name));
    const have = await indexesOf(em, t);
    for (const fk of have.foreign) {
      if (wanted.has(fk)) continue;
      await runLiteral(em, `ALTER TABLE ${ident(t)} DROP FOREIGN KEY ${ident(fk)}`);
      dropped.push(`${t}.${fk}`);
    }
  }
  for (const t of PDR_RUN_TABLES) {
    const wanted = new Set(targetTable(em, t).indexes.map((i) => i.name));
    const have = await indexesOf(em, t);
    for (const ix of have.indexes) {
      if (ix === 'PRIMARY' || wanted.has(ix)) continue;
      await runLiteral(em, `ALTER TABLE ${ident(t)} DROP INDEX ${ident(ix)}`);
      dropped.push(`${t}.${ix}`);
    }
  }
  return dropped.length ? `dropped: ${dropped.join(', ')}` : undefined;
}

async function addTargetKeys(em: Em): Promise<string | undefined> {
  const hash = (await columnsOf(em, 'kosmatau_parameters')).get('parameter_hash');
  const nullable = await one<{ n: string }>(
    em,
    "SELECT IS_NULLABLE AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kosmatau_parameters' AND COLUMN_NAME = 'parameter_hash'",
  );
  if (hash && nullable?.n === 'YES') await runLiteral(em, `ALTER TABLE kosmatau_parameters MODIFY COLUMN ${targetTable(em, 'kosmatau_parameters').columns.find((c) => c.name === 'parameter_hash')!.def}`);
  const added: string[] = [];
  for (const t of PDR_RUN_TABLES) {
    const have = await indexesOf(em, t);
    const parts = targetTable(em, t)
      .indexes.filter((i) => (i.kind === 'foreign' ? !have.foreign.has(i.name) : !have.indexes.has(i.name)))
      .sort((a, b) => (a.kind === 'foreign' ? 1 : 0) - (b.kind === 'foreign' ? 1 : 0));
    if (!parts.length) continue;
    await runLiteral(em, `ALTER TABLE ${ident(t)} ${parts.map((p) => `ADD ${p.def}`).join(', ')}`);
    added.push(...parts.map((p) => p.name));
  }
  return added.length ? `added: ${added.join(', ')}` : undefined;
}
