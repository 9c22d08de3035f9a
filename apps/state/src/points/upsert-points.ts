import { IsolationLevel, LockMode, raw } from '@mikro-orm/core';
import { ContractError, JobStatus, PointsUpsertReply, RpcRequestParsed } from '@pdr/contracts';
import { buildParameterRow, GridRows, gridRows, jobNameOf, KOSMATAU_PARAMETER_NAMES, parameterHasher, POINT_COLUMNS, PointColumnValues } from '@pdr/domain';
import { allLiteral, asJobStatus, bumpVersion, chunk, Em, Grid, ident, legacyGridHash, literalList, PdrModelJob, runLiteral, sqlLiteral, statusFields, transaction } from '@pdr/persistence';
import { badRequest } from '../infrastructure/errors';
import { LoadedGrid, loadGridOrFail } from '../grids/load-grid';

/** Distinct points per transaction: one multi-row INSERT per table per chunk (~1000 rows). */
export const POINT_CHUNK = 1000;

const RETRYABLE: readonly JobStatus[] = ['failed', 'problem'];
const DONE: readonly JobStatus[] = ['finished', 'skipped'];
const PARAM_COLUMNS = ['model_name_id', 'parameter_hash', ...KOSMATAU_PARAMETER_NAMES];
const PARAM_INSERT_HEAD = `INSERT INTO kosmatau_parameters (${PARAM_COLUMNS.map(ident).join(', ')}) VALUES `;
const JOB_COLUMNS = [
  'model_name_id',
  'model_job_name',
  'user_id',
  'kosmatau_parameters_id',
  'chemical_database_id',
  'onion_species',
  'pending',
  'active',
  'status',
  'output_directory',
  'output_hdf4_file',
  'grid_id',
];
const JOB_INSERT_HEAD = `INSERT INTO pdr_model_jobs (${JOB_COLUMNS.join(', ')}) VALUES `;

interface PlannedPoint {
  hash: string;
  jobName: string;
  /** The columns of the point's kosmatau_parameters row that are not the grid's (GridRows.base has the others). */
  values: PointColumnValues;
}

/** A request's points: each point's own values, and the grid's SQL text of the columns all its rows share. */
interface PlannedPoints {
  points: PlannedPoint[];
  /** The parameter row of a point as `(v, v, …)` literals in PARAM_COLUMNS order: fixed[0] hash fixed[1] v fixed[2] … */
  paramRowSql: (p: PlannedPoint) => string;
}

export interface PointOutcome {
  jobId: number;
  status: JobStatus;
  generation: number;
  created: boolean;
}

/**
 * Use case "points upsert": each point's kosmatau_parameters row is built from the grid's physics with
 * @pdr/domain and identified by (model name, canonical parameter hash); its job by (model name,
 * parameter row). Rows are built in memory, then per chunk of ~1000 distinct points one short
 * transaction: multi-row INSERT ... ON DUPLICATE KEY UPDATE (no-op) for parameters, jobs and grid
 * membership, each followed by one SELECT of the ids — a constant number of statements per chunk,
 * never one per point. Re-sending the same points inserts nothing.
 *
 * `created` comes from one SELECT of the points that already had a job before the insert; those are
 * not inserted again (a re-sent batch costs only SELECTs). For all others the unique keys decide,
 * also against concurrent requests; two identical requests racing may both report a point created.
 *
 * retryFailed: failed/problem jobs go back to pending with generation + 1, and take this grid's run
 * options (their grid_id moves here), so a resubmission with fixed settings runs with them.
 * A grid submitted with forceOnion does the same to finished/skipped jobs: their runner finds the PDR
 * outputs stored, restores what onion needs and re-runs onion only (pdr_run's --force-onion).
 */
export async function upsertPoints(em: Em, req: RpcRequestParsed<'pointsUpsert'>): Promise<{ reply: PointsUpsertReply; changed: number[] }> {
  const grid = await loadGridOrFail(em, req.gridId);
  const planned = await planPoints(grid, req.points);
  const distinct = [...new Map(planned.points.map((p) => [p.hash, p])).values()].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const outcome = new Map<string, PointOutcome>();
  const changed: number[] = [];
  for (const part of chunk(distinct, POINT_CHUNK)) {
    // READ COMMITTED: the SELECTs of ids after the INSERTs see rows another request committed while this
    // one waited on them (a REPEATABLE READ snapshot taken before might not), without locking the rows read
    const res = await transaction(em, (tem) => upsertChunk(tem, grid, part, planned.paramRowSql, req.retryFailed), undefined, { isolationLevel: IsolationLevel.READ_COMMITTED });
    for (const [h, o] of res.outcome) outcome.set(h, o);
    changed.push(...res.retried);
  }
  const jobs = planned.points.map((p) => {
    const o = outcome.get(p.hash)!;
    return [o.jobId, o.status, o.generation, o.created] as [number, JobStatus, number, boolean];
  });
  return { reply: { jobs }, changed };
}

/** Points whose rows are built between two yields to the event loop. */
const BUILD_SLICE = 1000;

/**
 * Builds every point's row and hash with @pdr/domain: the grid's part of the row, of its canonical JSON
 * and of its INSERT text once per request (GridRows, parameterHasher), then per point only its four axis
 * values, rtot and the hash (the same rows and hashes as buildParameterRow and parameterHash). Yields to
 * the event loop every BUILD_SLICE points so heartbeats and claims of other runners are answered while
 * a large batch is planned.
 */
async function planPoints(grid: LoadedGrid, points: readonly (readonly [string, string, string, string])[]): Promise<PlannedPoints> {
  const { alpha, rcore, chemistry, nonDefault } = grid.physics;
  const out: PlannedPoint[] = [];
  if (!points.length) return { points: out, paramRowSql: () => '' };
  let rows: GridRows;
  let hasher: ReturnType<typeof parameterHasher>;
  try {
    rows = gridRows({ alpha, rcore, chemistry, nonDefault });
    hasher = parameterHasher(rows.base, POINT_COLUMNS);
  } catch (gridErr) {
    // a bad grid input: answered as before, as the error of the first point's row
    const [metal, dens, mass, chi] = points[0];
    let err = gridErr;
    try {
      buildParameterRow({ point: { metal, dens, mass, chi }, alpha, rcore, chemistry, nonDefault });
    } catch (pointErr) {
      err = pointErr;
    }
    throw badRequest(`points[0] ${JSON.stringify([metal, dens, mass, chi])}: ${(err as Error).message}`, { index: 0 });
  }
  for (let i = 0; i < points.length; i++) {
    if (i > 0 && i % BUILD_SLICE === 0) await new Promise((r) => setImmediate(r));
    const [metal, dens, mass, chi] = points[i];
    const point = { metal, dens, mass, chi };
    let values: PointColumnValues;
    let hash: string;
    try {
      values = rows.pointValues(point);
      hash = hasher(values);
    } catch (err) {
      throw badRequest(`points[${i}] ${JSON.stringify([metal, dens, mass, chi])}: ${(err as Error).message}`, { index: i });
    }
    const jobName = jobNameOf(point);
    if (jobName.length > 255) throw badRequest(`points[${i}]: job name ${jobName.slice(0, 40)}… is longer than 255 characters`, { index: i });
    out.push({ hash, jobName, values });
  }
  return { points: out, paramRowSql: paramRowSqlOf(grid.modelNameId, rows.base) };
}

/**
 * The INSERT text `(model_name_id, 'hash', v, v, …)` of a point's parameter row in PARAM_COLUMNS order,
 * with the literals of the grid's columns rendered once; per point only the hash and POINT_COLUMNS.
 */
function paramRowSqlOf(modelNameId: number, base: GridRows['base']): (p: PlannedPoint) => string {
  const slots: (keyof PointColumnValues)[] = [];
  const fixed: string[] = [`(${sqlLiteral(modelNameId)}, `];
  let text = '';
  for (const c of KOSMATAU_PARAMETER_NAMES) {
    if ((POINT_COLUMNS as readonly string[]).includes(c)) {
      fixed.push(`${text}, `);
      slots.push(c as keyof PointColumnValues);
      text = '';
    } else {
      text += `, ${sqlLiteral(base[c] ?? null)}`;
    }
  }
  fixed.push(`${text})`);
  return (p) => {
    let out = fixed[0] + sqlLiteral(p.hash);
    for (let j = 0; j < slots.length; j++) out += fixed[j + 1] + sqlLiteral(p.values[slots[j]]);
    return out + fixed[slots.length + 1];
  };
}

/**
 * Rounds of INSERT ... ON DUPLICATE KEY for rows a concurrent request may be inserting at the same time.
 * With four overlapping requests, one of them a deadlock victim, an INSERT that reported every row as
 * affected was sometimes followed, in the same transaction, by a read-back without some of those rows
 * (the rare INTERNAL "parameter row missing after insert", about one run in five of the overlapping-
 * batches race test). The exact InnoDB interleaving is not pinned down (a plain rollback of the other
 * transaction does not cause it); the remedy does not depend on it: insert, read back, insert what is
 * still missing. A second round was needed in 2 of 15 runs of that test, never a third.
 */
const INSERT_ROUNDS = 5;

async function insertUntilPresent<T, K, R extends { has(key: K): boolean }>(
  items: readonly T[],
  insert: (missing: T[]) => Promise<unknown>,
  readBack: () => Promise<R>,
  keyOf: (item: T) => K,
  what: string,
): Promise<R> {
  let missing = [...items];
  for (let round = 1; ; round++) {
    if (missing.length) await insert(missing);
    const present = await readBack();
    missing = items.filter((it) => !present.has(keyOf(it)));
    if (!missing.length) return present;
    if (round >= INSERT_ROUNDS) throw new ContractError('INTERNAL', `${what} of ${missing.length} point(s) still missing after ${round} inserts`);
  }
}

interface JobDbRow {
  id: number;
  kosmatau_parameters_id: number;
  status: string;
  generation: number;
  grid_id: number | null;
}

async function upsertChunk(
  em: Em,
  grid: LoadedGrid,
  part: PlannedPoint[],
  paramRowSql: PlannedPoints['paramRowSql'],
  retryFailed: boolean,
): Promise<{ outcome: Map<string, PointOutcome>; retried: number[] }> {
  // Raw SQL on purpose (the one place the entity manager is too slow): the big statements carry their
  // values as literals (sqlLiteral), formatted here once instead of through the ORM's placeholder
  // substitution of ~110 000 values per chunk. Measured (test/bench/orm-upsert.js, 10 000 parameter rows
  // in 1000-row transactions, 2 CPUs at load 13-16, 2026-11-30): this INSERT … ON DUPLICATE KEY 2.7-3.1 s,
  // em.upsertMany(onConflictAction 'ignore') — the ORM's form of it — 16.7-27.7 s, em.insertMany 3.1-4.6 s
  // (but without conflict handling, which concurrent requests for the same points need). The small
  // reads and the CAS of repend below go through the entity manager.
  const model = sqlLiteral(grid.modelNameId);
  const hashList = literalList(part.map((p) => p.hash));
  const existed = new Set(
    (
      await allLiteral<{ h: string }>(
        em,
        `SELECT p.parameter_hash AS h FROM kosmatau_parameters p
         JOIN pdr_model_jobs j ON j.model_name_id = p.model_name_id AND j.kosmatau_parameters_id = p.id
         WHERE p.model_name_id = ${model} AND p.parameter_hash IN (${hashList})`,
      )
    ).map((r) => r.h),
  );

  // Points that already have their job need no insert (a re-sent batch costs only the SELECTs); for
  // all others the INSERT ... ON DUPLICATE KEY is what decides, also against concurrent requests.
  const fresh = part.filter((p) => !existed.has(p.hash));
  const paramIds = await insertUntilPresent(
    fresh,
    (missing) => runLiteral(em, `${PARAM_INSERT_HEAD}${missing.map(paramRowSql).join(', ')} ON DUPLICATE KEY UPDATE id = id`),
    async () =>
      new Map(
        (
          await allLiteral<{ id: number; h: string }>(
            em,
            `SELECT id, parameter_hash AS h FROM kosmatau_parameters WHERE model_name_id = ${model} AND parameter_hash IN (${hashList})`,
          )
        ).map((r) => [r.h, r.id]),
      ),
    (p) => p.hash,
    'parameter row',
  );

  // JOB_COLUMNS: the point's name, parameter row and output file between the grid's values
  const user = sqlLiteral(grid.userId);
  const afterParam = [grid.chemicalDatabaseId, grid.onionSpecies, 1, 0, 'pending', grid.modelPath].map(sqlLiteral).join(', ');
  const gridId = sqlLiteral(grid.id);
  const paramIdList = literalList([...paramIds.values()]);
  const jobByParam = await insertUntilPresent(
    fresh,
    (missing) =>
      runLiteral(
        em,
        `${JOB_INSERT_HEAD}${missing
          .map((p) => `(${model}, ${sqlLiteral(p.jobName)}, ${user}, ${sqlLiteral(paramIds.get(p.hash)!)}, ${afterParam}, ${sqlLiteral(`pdr${p.jobName}.hdf`)}, ${gridId})`)
          .join(', ')} ON DUPLICATE KEY UPDATE id = id`,
      ),
    async () =>
      new Map(
        (
          await allLiteral<JobDbRow>(
            em,
            `SELECT id, kosmatau_parameters_id, status, generation, grid_id FROM pdr_model_jobs WHERE model_name_id = ${model} AND kosmatau_parameters_id IN (${paramIdList})`,
          )
        ).map((j) => [j.kosmatau_parameters_id, j]),
      ),
    (p) => paramIds.get(p.hash)!,
    'job',
  );
  const jobs = [...jobByParam.values()];

  await insertUntilPresent(
    jobs,
    (missing) => runLiteral(em, `INSERT INTO grid_points (grid_id, job_id) VALUES ${missing.map((j) => `(${gridId}, ${sqlLiteral(j.id)})`).join(', ')} ON DUPLICATE KEY UPDATE grid_id = grid_id`),
    async () =>
      new Set((await allLiteral<{ id: number }>(em, `SELECT job_id AS id FROM grid_points WHERE grid_id = ${gridId} AND job_id IN (${literalList(jobs.map((j) => j.id))})`)).map((r) => r.id)),
    (j) => j.id,
    'grid membership',
  );

  const retried: number[] = [];
  // pdr_run's finished jobs (adopted by pdr db upgrade/import, still in their model's legacy grid) are
  // verified once, not assumed: queued again, the runner finds their outputs stored and records them
  // as skipped with checksums, running nothing — or runs what is missing
  const legacyGrid = await legacyGridOf(em, grid);
  if (legacyGrid !== undefined) {
    const unverified = jobs.filter((j) => j.grid_id === legacyGrid && (DONE as readonly string[]).includes(j.status)).map((j) => j.id);
    if (unverified.length) retried.push(...(await repend(em, unverified, DONE, grid)));
  }
  const again: readonly JobStatus[] = [...(retryFailed ? RETRYABLE : []), ...(grid.run.forceOnion ? DONE : [])];
  if (again.length) {
    const done = new Set(retried);
    const candidates = jobs.filter((j) => !done.has(j.id) && (again as readonly string[]).includes(j.status)).map((j) => j.id);
    if (candidates.length) retried.push(...(await repend(em, candidates, again, grid)));
  }
  const repended = new Set(retried);
  for (const j of jobs) {
    if (repended.has(j.id)) {
      j.status = 'pending';
      j.generation += 1;
    }
  }

  const outcome = new Map<string, PointOutcome>();
  for (const p of part) {
    const j = jobByParam.get(paramIds.get(p.hash)!);
    if (!j) throw new ContractError('INTERNAL', `job of point ${p.jobName} missing after insert`);
    outcome.set(p.hash, { jobId: j.id, status: asJobStatus(j.status), generation: j.generation, created: !existed.has(p.hash) });
  }
  return { outcome, retried };
}

/** The id of the grid holding the model's adopted pdr_run jobs, when there is one (and it is not this grid). */
async function legacyGridOf(em: Em, grid: LoadedGrid): Promise<number | undefined> {
  const [row] = await em
    .createQueryBuilder(Grid)
    .select('id')
    .where({ model_name_id: grid.modelNameId, request_hash: legacyGridHash(grid.modelNameId) })
    .execute<{ id: number }[]>('all', false);
  const id = row?.id;
  return id === undefined || id === grid.id ? undefined : id;
}

/**
 * failed/problem (or the given statuses) → pending, generation + 1, reason and cancel flags cleared,
 * grid_id and onion species of `grid`. Locks the rows first (SELECT ... FOR UPDATE), so the returned
 * ids are exactly the jobs changed. Runs in the caller's transaction.
 */
export async function repend(em: Em, jobIds: number[], from: readonly JobStatus[], grid: LoadedGrid): Promise<number[]> {
  const rows = await em
    .createQueryBuilder(PdrModelJob)
    .select('id')
    .where({ id: { $in: jobIds }, status: { $in: [...from] } })
    .orderBy({ id: 'asc' })
    .setLockMode(LockMode.PESSIMISTIC_WRITE)
    .execute<{ id: number }[]>('all', false);
  const locked = rows.map((r) => r.id);
  if (!locked.length) return [];
  await em.nativeUpdate(
    PdrModelJob,
    { id: { $in: locked } },
    {
      ...statusFields('pending'),
      generation: raw('generation + 1'),
      ...bumpVersion(),
      reason: null,
      cancel_requested: false,
      cancel_kill: false,
      heartbeat_at: null,
      queued_at: null,
      grid_id: grid.id,
      onion_species: grid.onionSpecies,
    },
  );
  return locked;
}
