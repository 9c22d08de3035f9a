import { ContractError, JobStatus, PointsUpsertReply, RpcRequestParsed } from '@pdr/contracts';
import { buildParameterRow, jobNameOf, KOSMATAU_PARAMETER_NAMES, ParameterRow, parameterHash } from '@pdr/domain';
import { all, asJobStatus, chunk, Em, ident, inList, placeholders, run, setStatusSql, SqlValue, statusList, transaction } from '@pdr/persistence';
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
  row: ParameterRow;
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
  const distinct = [...new Map(planned.map((p) => [p.hash, p])).values()].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const outcome = new Map<string, PointOutcome>();
  const changed: number[] = [];
  for (const part of chunk(distinct, POINT_CHUNK)) {
    const res = await transaction(em, (tem) => upsertChunk(tem, grid, part, req.retryFailed));
    for (const [h, o] of res.outcome) outcome.set(h, o);
    changed.push(...res.retried);
  }
  const jobs = planned.map((p) => {
    const o = outcome.get(p.hash)!;
    return [o.jobId, o.status, o.generation, o.created] as [number, JobStatus, number, boolean];
  });
  return { reply: { jobs }, changed };
}

/** Points whose rows are built between two yields to the event loop. */
const BUILD_SLICE = 200;

/**
 * Builds every point's row and hash with @pdr/domain (~1 ms per point, mostly the correctly rounded
 * geometry and the canonical hash), yielding to the event loop every BUILD_SLICE points so heartbeats
 * and claims of other runners are answered while a large batch is planned.
 */
async function planPoints(grid: LoadedGrid, points: readonly (readonly [string, string, string, string])[]): Promise<PlannedPoint[]> {
  const { alpha, rcore, chemistry, nonDefault } = grid.physics;
  const out: PlannedPoint[] = [];
  for (let i = 0; i < points.length; i++) {
    if (i > 0 && i % BUILD_SLICE === 0) await new Promise((r) => setImmediate(r));
    const [metal, dens, mass, chi] = points[i];
    const point = { metal, dens, mass, chi };
    let row: ParameterRow;
    try {
      row = buildParameterRow({ point, alpha, rcore, chemistry, nonDefault });
    } catch (err) {
      throw badRequest(`points[${i}] ${JSON.stringify([metal, dens, mass, chi])}: ${(err as Error).message}`, { index: i });
    }
    const jobName = jobNameOf(point);
    if (jobName.length > 255) throw badRequest(`points[${i}]: job name ${jobName.slice(0, 40)}… is longer than 255 characters`, { index: i });
    out.push({ hash: parameterHash(row), jobName, row });
  }
  return out;
}

interface JobDbRow {
  id: number;
  kosmatau_parameters_id: number;
  status: string;
  generation: number;
}

async function upsertChunk(
  em: Em,
  grid: LoadedGrid,
  part: PlannedPoint[],
  retryFailed: boolean,
): Promise<{ outcome: Map<string, PointOutcome>; retried: number[] }> {
  const hashes = part.map((p) => p.hash);
  const existed = new Set(
    (
      await all<{ h: string }>(
        em,
        `SELECT p.parameter_hash AS h FROM kosmatau_parameters p
         JOIN pdr_model_jobs j ON j.model_name_id = p.model_name_id AND j.kosmatau_parameters_id = p.id
         WHERE p.model_name_id = ? AND p.parameter_hash IN (${inList(hashes.length)})`,
        [grid.modelNameId, ...hashes],
      )
    ).map((r) => r.h),
  );

  // Points that already have their job need no insert (a re-sent batch costs only the SELECTs); for
  // all others the INSERT ... ON DUPLICATE KEY is what decides, also against concurrent requests.
  const fresh = part.filter((p) => !existed.has(p.hash));
  if (fresh.length) {
    const paramValues: SqlValue[] = [];
    for (const p of fresh) {
      paramValues.push(grid.modelNameId, p.hash);
      for (const c of KOSMATAU_PARAMETER_NAMES) paramValues.push(p.row[c] ?? null);
    }
    await run(em, `${PARAM_INSERT_HEAD}${placeholders(fresh.length, PARAM_COLUMNS.length)} ON DUPLICATE KEY UPDATE id = id`, paramValues);
  }
  const paramIds = new Map(
    (
      await all<{ id: number; h: string }>(
        em,
        `SELECT id, parameter_hash AS h FROM kosmatau_parameters WHERE model_name_id = ? AND parameter_hash IN (${inList(hashes.length)})`,
        [grid.modelNameId, ...hashes],
      )
    ).map((r) => [r.h, r.id]),
  );

  const jobValues: SqlValue[] = [];
  for (const p of fresh) {
    const paramId = paramIds.get(p.hash);
    if (paramId === undefined) throw new ContractError('INTERNAL', `parameter row of point ${p.jobName} missing after insert`);
    jobValues.push(
      grid.modelNameId,
      p.jobName,
      grid.userId,
      paramId,
      grid.chemicalDatabaseId,
      grid.onionSpecies,
      1,
      0,
      'pending',
      grid.modelPath,
      `pdr${p.jobName}.hdf`,
      grid.id,
    );
  }
  if (fresh.length) await run(em, `${JOB_INSERT_HEAD}${placeholders(fresh.length, JOB_COLUMNS.length)} ON DUPLICATE KEY UPDATE id = id`, jobValues);
  const ids = [...paramIds.values()];
  const jobs = await all<JobDbRow>(
    em,
    `SELECT id, kosmatau_parameters_id, status, generation FROM pdr_model_jobs WHERE model_name_id = ? AND kosmatau_parameters_id IN (${inList(ids.length)})`,
    [grid.modelNameId, ...ids],
  );
  const jobByParam = new Map(jobs.map((j) => [j.kosmatau_parameters_id, j]));

  const members: number[] = [];
  for (const j of jobs) members.push(grid.id, j.id);
  await run(em, `INSERT INTO grid_points (grid_id, job_id) VALUES ${placeholders(jobs.length, 2)} ON DUPLICATE KEY UPDATE grid_id = grid_id`, members);

  let retried: number[] = [];
  const again: readonly JobStatus[] = [...(retryFailed ? RETRYABLE : []), ...(grid.run.forceOnion ? DONE : [])];
  if (again.length) {
    const candidates = jobs.filter((j) => (again as readonly string[]).includes(j.status)).map((j) => j.id);
    if (candidates.length) retried = await repend(em, candidates, again, grid);
    const repended = new Set(retried);
    for (const j of jobs) {
      if (repended.has(j.id)) {
        j.status = 'pending';
        j.generation += 1;
      }
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

/**
 * failed/problem (or the given statuses) → pending, generation + 1, reason and cancel flags cleared,
 * grid_id and onion species of `grid`. Locks the rows first (SELECT ... FOR UPDATE), so the returned
 * ids are exactly the jobs changed. Runs in the caller's transaction.
 */
export async function repend(em: Em, jobIds: number[], from: readonly JobStatus[], grid: LoadedGrid): Promise<number[]> {
  const locked = (
    await all<{ id: number }>(
      em,
      `SELECT id FROM pdr_model_jobs WHERE id IN (${inList(jobIds.length)}) AND status IN ${statusList(from)} ORDER BY id FOR UPDATE`,
      jobIds,
    )
  ).map((r) => r.id);
  if (!locked.length) return [];
  await run(
    em,
    `UPDATE pdr_model_jobs SET ${setStatusSql('pending')}, generation = generation + 1, version = version + 1, reason = NULL,
       cancel_requested = 0, cancel_kill = 0, heartbeat_at = NULL, queued_at = NULL, grid_id = ?, onion_species = ?
     WHERE id IN (${inList(locked.length)})`,
    [grid.id, grid.onionSpecies, ...locked],
  );
  return locked;
}
