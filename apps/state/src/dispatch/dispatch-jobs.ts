import { DispatchBatch, DispatchJob, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { all, Em, fromDbTime, inList, one, run, setStatusSql, toDbTime, transaction } from '@pdr/persistence';

/**
 * What the planner's dispatch sweep asks of the database (the planner is the one publisher of job
 * events; state only says which jobs need one). Rows are taken with FOR UPDATE SKIP LOCKED and changed
 * in the same short transaction, so two planners' sweeps never take the same job.
 */

/** Pending jobs untouched for `olderThanMs` (their planner died between persisting and publishing). */
export async function takeStalePending(em: Em, req: RpcRequestParsed<'jobsTakeStalePending'>, installationId: string): Promise<DispatchBatch> {
  const jobs = await transaction(em, async (tem) => {
    const rows = await all<{ id: number; grid_id: number; generation: number }>(
      tem,
      `SELECT id, grid_id, generation FROM pdr_model_jobs
       WHERE status = 'pending' AND grid_id IS NOT NULL AND COALESCE(time_updated, time_created) < NOW(3) - INTERVAL ? MICROSECOND
       ORDER BY id LIMIT ${req.limit} FOR UPDATE SKIP LOCKED`,
      [req.olderThanMs * 1000],
    );
    // touched, so no other sweep takes them again before olderThanMs has passed once more
    if (rows.length) await run(tem, `UPDATE pdr_model_jobs SET time_updated = NOW(3) WHERE id IN (${inList(rows.length)}) AND status = 'pending'`, rows.map((r) => r.id));
    return rows.map((r): DispatchJob => [r.id, r.grid_id, r.generation]);
  });
  return { installationId, jobs };
}

/** Counts of queued and running jobs, and one page of the queued ones, to compare with the stream. */
export async function outstandingJobs(em: Em, req: RpcRequestParsed<'jobsOutstanding'>, installationId: string): Promise<RpcReply<'jobsOutstanding'>> {
  const counts = await one<{ queued: number | string | null; running: number | string | null; now: string | Date }>(
    em,
    `SELECT SUM(status = 'queued') AS queued, SUM(status = 'running') AS running, NOW(3) AS now FROM pdr_model_jobs WHERE status IN ('queued', 'running')`,
  );
  const jobs = req.limit
    ? await all<{ id: number; grid_id: number; generation: number; queued_at: string | Date | null }>(
        em,
        `SELECT id, grid_id, generation, queued_at FROM pdr_model_jobs
         WHERE status = 'queued' AND grid_id IS NOT NULL AND id > ? ORDER BY id LIMIT ${req.limit}`,
        [req.afterId],
      )
    : [];
  return {
    installationId,
    now: fromDbTime(counts!.now)!,
    queued: Number(counts?.queued ?? 0),
    running: Number(counts?.running ?? 0),
    jobs: jobs.map((r) => [r.id, r.grid_id, r.generation, fromDbTime(r.queued_at) ?? new Date(0).toISOString()]),
  };
}

/**
 * Jobs whose event is known lost (not in the stream) or was swallowed as a duplicate: those still
 * pending, or queued since before `queuedBefore` (one queued later has a fresh event), get generation + 1
 * and go back to pending; the planner publishes them and marks them queued. An old copy of the event,
 * should one still exist, then loses the claim (stale generation): one run either way.
 */
export async function redispatch(em: Em, req: RpcRequestParsed<'jobsRedispatch'>, installationId: string): Promise<{ reply: DispatchBatch; changed: number[] }> {
  const ids = [...new Set(req.jobIds)].sort((a, b) => a - b);
  const before = req.queuedBefore === undefined ? null : toDbTime(req.queuedBefore, 'queuedBefore');
  const jobs = await transaction(em, async (tem) => {
    const rows = await all<{ id: number; grid_id: number; generation: number }>(
      tem,
      `SELECT id, grid_id, generation FROM pdr_model_jobs
       WHERE id IN (${inList(ids.length)}) AND grid_id IS NOT NULL AND cancel_requested = 0
         AND (status = 'pending' OR (status = 'queued' AND (? IS NULL OR queued_at IS NULL OR queued_at < ?)))
       ORDER BY id FOR UPDATE SKIP LOCKED`,
      [...ids, before, before],
    );
    if (!rows.length) return [];
    await run(
      tem,
      `UPDATE pdr_model_jobs SET ${setStatusSql('pending')}, generation = generation + 1, version = version + 1, queued_at = NULL, reason = ?
       WHERE id IN (${inList(rows.length)})`,
      [`event published again: ${req.reason}`, ...rows.map((r) => r.id)],
    );
    return rows.map((r): DispatchJob => [r.id, r.grid_id, r.generation + 1]);
  });
  return { reply: { installationId, jobs }, changed: jobs.map(([id]) => id) };
}
