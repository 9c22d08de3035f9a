import { ClaimedJob, JobClaimReply, quarantineRef, RpcRequestParsed, runOptions, safeName } from '@pdr/contracts';
import { KOSMATAU_PARAMETER_NAMES, ParameterValue } from '@pdr/domain';
import {
  all,
  countsOf,
  dbNow,
  Em,
  ident,
  isTerminal,
  JobAttempt,
  one,
  packetTransaction,
  PdrModelJob,
  rowsOf,
  setStatusSql,
  STALE_RUNNING_SQL,
  Stmt,
  stmt,
  transaction,
} from '@pdr/persistence';
import { PROGRESS_COLUMNS_SQL, ProgressRow } from '../infrastructure/progress';
import { loadJobStateOrFail } from './load-job';

export interface ClaimOptions {
  /** A running job whose last heartbeat is older than this may be claimed again (runner presumed dead). */
  staleHeartbeatMs: number;
  /** This database's installation id: an event that names another database is refused. */
  installationId: string;
}

/**
 * Use case "claim": one compare-and-set UPDATE turns the job to running for a new attempt when it is
 * pending or queued — or running with a heartbeat older than staleHeartbeatMs (reclaim) — for the
 * event's generation and not cancelled. affectedRows decides: of 50 runners holding the same event
 * exactly one wins. The winner gets a job_attempts row (a reclaimed attempt is closed as failed) and
 * everything it needs to run; the others get granted:false with the reason and ack their event.
 *
 * The granted path is one packet to MariaDB (packetTransaction): BEGIN, the CAS, the claimed row with
 * its joins, the earlier attempts closed, the attempt INSERT, the reads of what earlier attempts left;
 * then COMMIT once the reply is built from them. The writes after the CAS are conditional on it in SQL
 * (`@pdr_claimed`, the CAS's ROW_COUNT()), so a CAS that did not apply changes nothing and its transaction
 * commits empty. It was four round trips with seven statements sent one by one or pipelined through
 * knex; state's CPU bounds the lifecycle rate, and with claim, finish and steps in packets it fell from
 * 8–12 to 6–8 ms per lifecycle on the bench's machine (docs/benchmarks.md, "Fourth pass"). The statements
 * stay SQL, not entities or the QueryBuilder, for the same reason (the ORM path costs 2–3× the CPU per
 * statement, MikroORM 6.6). The rarer paths — the refusal's read, the same claim again — run afterwards
 * in a transaction of their own through the ORM.
 */
export async function claimJob(
  em: Em,
  req: RpcRequestParsed<'jobClaim'>,
  opts: ClaimOptions,
): Promise<{ reply: JobClaimReply; changed: number[]; progress: ProgressRow[] }> {
  if (req.db !== undefined && req.db !== opts.installationId) {
    // job ids repeat across databases: this event belongs to another one (e.g. a database used before
    // behind the same namespace); that database's own sweep publishes it again when it runs
    return {
      reply: { granted: false, reason: `event of another database (installation ${req.db}, this is ${opts.installationId})`, status: 'queued' },
      changed: [],
      progress: [],
    };
  }
  // COMMIT only once the reply is built: a claimed row the reply cannot be made of (a species name or run
  // options that do not parse) rolls the claim back, as before, instead of leaving the job running for nobody
  const granted = await packetTransaction(em, async (tx) => {
    const results = await tx.send(claimStatements(req, opts));
    if (countsOf(results[0]).affectedRows !== 1) return null; // nothing changed (the conditional writes did nothing)
    // the job's row (read once, with everything the runner needs and its progress event's columns) gives
    // the new attempt number
    const row = rowsOf<ClaimRow>(results[2])[0];
    const kept = { recordedFiles: toRecordedFiles(rowsOf<FileRow>(results[5])), quarantine: toQuarantine(rowsOf<{ detail: unknown }>(results[6])[0]) };
    return claimedJob(row, req.jobId, kept);
  });
  if (granted === null) {
    return transaction(em, async (tem) => {
      const job = await loadJobStateOrFail(tem, req.jobId);
      if (await isSameClaimAgain(tem, job, req)) {
        const read = claimRowStmt(job.id);
        const [again, kept] = await Promise.all([one<ClaimRow>(tem, read.sql, read.params), keptRecords(tem, job.id)]);
        return { reply: { granted: true, job: claimedJob(again, job.id, kept, job.attempt).job }, changed: [], progress: [] };
      }
      return { reply: refusal(job, req), changed: [], progress: [] };
    });
  }
  const { job, progress } = granted;
  return { reply: { granted: true, job }, changed: [job.jobId], progress: [progress] };
}

/**
 * The claim's one packet: [0] the CAS, [1] its ROW_COUNT() kept as @pdr_claimed, [2] the claimed row,
 * [3] earlier attempts still open closed as failed (a reclaim after a lost heartbeat; never overwritten),
 * [4] the new attempt's row, [5] the job's stored files, [6] outputs kept in quarantine. [3] and [4] do
 * nothing unless the CAS applied. Also the bench's SQL floor (test/bench/load.js).
 */
export function claimStatements(req: RpcRequestParsed<'jobClaim'>, opts: ClaimOptions): Stmt[] {
  return [
    stmt(
      `UPDATE pdr_model_jobs SET ${setStatusSql('running')}, attempt = attempt + 1, version = version + 1, runner_id = ?,
         heartbeat_at = NOW(3), time_of_start = NOW(3), time_of_finish = NULL, reason = NULL
       WHERE id = ? AND generation = ? AND cancel_requested = 0 AND grid_id IS NOT NULL
         AND (status IN ('pending', 'queued') OR ${STALE_RUNNING_SQL})`,
      [req.runnerId, req.jobId, req.generation, opts.staleHeartbeatMs * 1000],
    ),
    stmt('SET @pdr_claimed = ROW_COUNT()'),
    claimRowStmt(req.jobId),
    stmt(
      `UPDATE job_attempts a JOIN pdr_model_jobs j ON j.id = a.job_id
       SET a.status = 'failed', a.finished_at = NOW(3), a.reason = CONCAT('heartbeat lost; reclaimed by attempt ', j.attempt)
       WHERE @pdr_claimed = 1 AND a.job_id = ? AND a.attempt < j.attempt AND a.finished_at IS NULL`,
      [req.jobId],
    ),
    stmt(
      `INSERT INTO job_attempts (job_id, attempt, generation, runner_id, delivery, status, started_at)
       SELECT j.id, j.attempt, ?, ?, ?, 'running', NOW(3) FROM pdr_model_jobs j WHERE j.id = ? AND @pdr_claimed = 1`,
      [req.generation, req.runnerId, req.delivery, req.jobId],
    ),
    recordedFilesStmt(req.jobId),
    keptOutputsStmt(req.jobId),
  ];
}

/**
 * The runner asks again for the claim it already holds: same runner, same generation, same delivery of
 * the event, the attempt still open. That happens when the answer to its first claim was lost (a state
 * instance killed after the commit) or came after the runner's request timeout on a busy state service:
 * the same attempt is granted again (heartbeat refreshed) instead of refused — a refusal made the runner
 * ack its event and left the job running for nobody until its heartbeat went stale. A runner holds one
 * delivery of an event at a time, so no two slots can both hold this claim.
 */
async function isSameClaimAgain(em: Em, job: Awaited<ReturnType<typeof loadJobStateOrFail>>, req: RpcRequestParsed<'jobClaim'>): Promise<boolean> {
  if (job.status !== 'running' || job.runnerId !== req.runnerId || job.generation !== req.generation || job.cancelRequested) return false;
  const open = await em.count(JobAttempt, { job_id: job.id, attempt: job.attempt, delivery: req.delivery, finished_at: null });
  if (open !== 1) return false;
  await em.nativeUpdate(PdrModelJob, { id: job.id, attempt: job.attempt, status: 'running' }, { heartbeat_at: dbNow() });
  return true;
}

function refusal(job: Awaited<ReturnType<typeof loadJobStateOrFail>>, req: RpcRequestParsed<'jobClaim'>): JobClaimReply {
  let reason: string;
  if (job.generation !== req.generation) reason = `stale event: generation ${req.generation}, the job is at generation ${job.generation}`;
  else if (job.status === 'cancelled' || job.cancelRequested) reason = 'the job was cancelled';
  else if (isTerminal(job.status)) reason = `the job is already ${job.status}`;
  else if (job.status === 'running') reason = `attempt ${job.attempt} of runner ${job.runnerId ?? '?'} is running it (heartbeat ${job.heartbeatAgeMs ?? '?'} ms ago)`;
  else if (job.gridId === null) reason = 'the job belongs to no grid (no run options)';
  else reason = `the job is ${job.status}`;
  return { granted: false, reason, status: job.status };
}

interface ClaimRow extends ProgressRow {
  id: number;
  attempt: number;
  grid_id: number;
  model_job_name: string;
  onion_species: string | null;
  model_name: string;
  model_path: string;
  run_options: string | object;
  [column: string]: unknown;
}

const PARAM_SELECT = KOSMATAU_PARAMETER_NAMES.map((c) => `p.${ident(c)}`).join(', ');

/** The claimed job's row: parameters, model, the grid's run options and the progress event's columns. */
function claimRowStmt(jobId: number): Stmt {
  return stmt(
    `SELECT j.id, j.grid_id, j.onion_species, m.model_name, m.model_path, g.run_options, ${PROGRESS_COLUMNS_SQL}, ${PARAM_SELECT}
     FROM pdr_model_jobs j
     JOIN model_names m ON m.id = j.model_name_id
     JOIN grids g ON g.id = j.grid_id
     JOIN kosmatau_parameters p ON p.id = j.kosmatau_parameters_id
     WHERE j.id = ?`,
    [jobId],
  );
}

/**
 * Everything a runner needs: parameter row, onion species, the run options of the job's grid (attempt: the
 * row's unless given); and the job's progress event columns, as this transaction saw them.
 */
function claimedJob(r: ClaimRow | undefined, jobId: number, kept: KeptRecords, attempt?: number): { job: ClaimedJob; progress: ProgressRow } {
  if (!r) throw new Error(`job ${jobId}: model name, grid or parameter row missing`);
  const parameters: Record<string, ParameterValue> = {};
  for (const c of KOSMATAU_PARAMETER_NAMES) parameters[c] = r[c] as ParameterValue;
  const species = (r.onion_species ?? '').split(/\s+/).filter((s) => s !== '');
  const job: ClaimedJob = {
    jobId: r.id,
    attempt: attempt ?? r.attempt,
    gridId: r.grid_id,
    modelName: r.model_name,
    modelPath: r.model_path,
    jobName: r.model_job_name,
    parameters,
    onionSpecies: species.map((s) => safeName.parse(s)),
    run: runOptions.parse(typeof r.run_options === 'string' ? JSON.parse(r.run_options) : r.run_options),
    recordedFiles: kept.recordedFiles,
    quarantine: kept.quarantine,
  };
  const { id, grid_ids, model_job_name, status, reason, at, execution_ms } = r;
  return { job, progress: { id, grid_ids, model_job_name, status, attempt: r.attempt, reason, at, execution_ms } };
}

type KeptRecords = Pick<ClaimedJob, 'recordedFiles' | 'quarantine'>;

/** What earlier attempts left for the job: its stored files and outputs kept in quarantine (two reads sent together). */
async function keptRecords(em: Em, jobId: number): Promise<KeptRecords> {
  const [f, q] = [recordedFilesStmt(jobId), keptOutputsStmt(jobId)];
  const [files, quarantine] = await Promise.all([all<FileRow>(em, f.sql, f.params), all<{ detail: unknown }>(em, q.sql, q.params)]);
  return { recordedFiles: toRecordedFiles(files), quarantine: toQuarantine(quarantine[0]) };
}

interface FileRow {
  role: string;
  rel_path: string;
  file_size: number | string;
  sha256_sum: string;
}

/** The files job_files records for the job (its runner's "already stored" check compares storage with them). */
function recordedFilesStmt(jobId: number): Stmt {
  return stmt('SELECT role, rel_path, file_size, sha256_sum FROM job_files WHERE job_id = ? ORDER BY id LIMIT 500', [jobId]);
}

function toRecordedFiles(rows: FileRow[]): ClaimedJob['recordedFiles'] {
  return rows.map((f) => ({ role: f.role, relPath: f.rel_path, size: Number(f.file_size), sha256: f.sha256_sum }));
}

/**
 * Outputs an earlier attempt kept in quarantine after its store failed (its `outputs-quarantined` step, with
 * folder, host and runner) and that no later attempt stored, restored or found stored: whichever runner
 * claims the job next looks there first.
 */
function keptOutputsStmt(jobId: number): Stmt {
  return stmt(
    `SELECT q.detail FROM job_steps q WHERE q.job_id = ? AND q.step = 'outputs-quarantined'
       AND NOT EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = q.job_id AND s.id > q.id AND s.step IN ('outputs-stored', 'outputs-restored', 'outputs-exist'))
     ORDER BY q.id DESC LIMIT 1`,
    [jobId],
  );
}

function toQuarantine(q: { detail: unknown } | undefined): ClaimedJob['quarantine'] {
  if (!q) return null;
  const parsed = quarantineRef.safeParse(typeof q.detail === 'string' ? JSON.parse(q.detail) : q.detail);
  return parsed.success ? parsed.data : null;
}
