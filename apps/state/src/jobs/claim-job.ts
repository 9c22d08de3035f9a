import { ClaimedJob, JobClaimReply, quarantineRef, RpcRequestParsed, runOptions, safeName } from '@pdr/contracts';
import { KOSMATAU_PARAMETER_NAMES, ParameterValue } from '@pdr/domain';
import { all, dbNow, Em, ident, isTerminal, JobAttempt, one, PdrModelJob, run, setStatusSql, STALE_RUNNING_SQL, transaction } from '@pdr/persistence';
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
 * The granted path (CAS UPDATE, the claimed row with its joins, the attempt INSERT) stays SQL through the
 * forked EM's connection (`run`/`one`), not entities or the QueryBuilder: it is the state service's hot path,
 * and state's CPU is what bounds the lifecycle rate (`BENCH_ONLY=load`: state 3.3–4.3 ms CPU per
 * lifecycle, the bare-SQL floor's client 1.9–2.8 ms). Measured per statement on the same connection
 * (MikroORM 6.6, warm; docs/benchmarks.md): raw 50–86 µs CPU, QueryBuilder 130–155 µs, em.nativeUpdate
 * 210 µs, em.insert 155 µs, em.findOne 300 µs — the ORM path would add ≈ 0.5–1 ms per lifecycle. The
 * rarer paths (a reclaim closing the earlier attempt, the same claim again, the refusal's read) use
 * the ORM.
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
  return transaction(em, async (tem) => {
    // the CAS and the read of the claimed row are sent together: the driver runs them in order on the
    // transaction's connection (the read sees the CAS's change), without a turn of the event loop between
    // them; the row is used only when the CAS applied
    const [cas, row] = await Promise.all([
      run(
        tem,
        `UPDATE pdr_model_jobs SET ${setStatusSql('running')}, attempt = attempt + 1, version = version + 1, runner_id = ?,
         heartbeat_at = NOW(3), time_of_start = NOW(3), time_of_finish = NULL, reason = NULL
       WHERE id = ? AND generation = ? AND cancel_requested = 0 AND grid_id IS NOT NULL
         AND (status IN ('pending', 'queued') OR ${STALE_RUNNING_SQL})`,
        [req.runnerId, req.jobId, req.generation, opts.staleHeartbeatMs * 1000],
      ),
      readClaimRow(tem, req.jobId),
    ]);
    if (cas.affectedRows !== 1) {
      const job = await loadJobStateOrFail(tem, req.jobId);
      if (await isSameClaimAgain(tem, job, req)) {
        const [again, kept] = await Promise.all([readClaimRow(tem, job.id), keptRecords(tem, job.id)]);
        return { reply: { granted: true, job: claimedJob(again, job.id, kept, job.attempt).job }, changed: [], progress: [] };
      }
      return { reply: refusal(job, req), changed: [], progress: [] };
    }
    // granted: the job's row (read once, with everything the runner needs and its progress event's
    // columns) gives the new attempt number
    if (!row) throw new Error(`job ${req.jobId}: model name, grid or parameter row missing`);
    const attempt = Number(row.attempt);

    // earlier attempts still open (a reclaim after a lost heartbeat) are closed, never overwritten
    if (attempt > 1) {
      await tem.nativeUpdate(
        JobAttempt,
        { job_id: req.jobId, attempt: { $lt: attempt }, finished_at: null },
        { status: 'failed', finished_at: dbNow(), reason: `heartbeat lost; reclaimed by attempt ${attempt}` },
      );
    }
    // the attempt row and the reads of what earlier attempts left (stored files, quarantined outputs) go
    // out together on the transaction's connection: no extra round trip on the hot path
    const [, kept] = await Promise.all([
      run(
        tem,
        `INSERT INTO job_attempts (job_id, attempt, generation, runner_id, delivery, status, started_at) VALUES (?, ?, ?, ?, ?, 'running', NOW(3))`,
        [req.jobId, attempt, req.generation, req.runnerId, req.delivery],
      ),
      keptRecords(tem, req.jobId),
    ]);
    const { job, progress } = claimedJob(row, req.jobId, kept);
    return { reply: { granted: true, job }, changed: [job.jobId], progress: [progress] };
  });
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
function readClaimRow(em: Em, jobId: number): Promise<ClaimRow | undefined> {
  return one<ClaimRow>(
    em,
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
  const [files, quarantine] = await Promise.all([recordedFiles(em, jobId), keptOutputs(em, jobId)]);
  return { recordedFiles: files, quarantine };
}

/** The files job_files records for the job (its runner's "already stored" check compares storage with them). */
async function recordedFiles(em: Em, jobId: number): Promise<ClaimedJob['recordedFiles']> {
  const rows = await all<{ role: string; rel_path: string; file_size: number | string; sha256_sum: string }>(
    em,
    'SELECT role, rel_path, file_size, sha256_sum FROM job_files WHERE job_id = ? ORDER BY id LIMIT 500',
    [jobId],
  );
  return rows.map((f) => ({ role: f.role, relPath: f.rel_path, size: Number(f.file_size), sha256: f.sha256_sum }));
}

/**
 * Outputs an earlier attempt kept in quarantine after its store failed (its `outputs-quarantined` step, with
 * folder, host and runner) and that no later attempt stored, restored or found stored: whichever runner
 * claims the job next looks there first.
 */
async function keptOutputs(em: Em, jobId: number): Promise<ClaimedJob['quarantine']> {
  const q = await one<{ detail: unknown }>(
    em,
    `SELECT q.detail FROM job_steps q WHERE q.job_id = ? AND q.step = 'outputs-quarantined'
       AND NOT EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = q.job_id AND s.id > q.id AND s.step IN ('outputs-stored', 'outputs-restored', 'outputs-exist'))
     ORDER BY q.id DESC LIMIT 1`,
    [jobId],
  );
  if (!q) return null;
  const parsed = quarantineRef.safeParse(typeof q.detail === 'string' ? JSON.parse(q.detail) : q.detail);
  return parsed.success ? parsed.data : null;
}
