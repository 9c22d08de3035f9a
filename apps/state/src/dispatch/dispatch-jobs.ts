import { LockMode, raw } from '@mikro-orm/core';
import { DispatchBatch, DispatchJob, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { bumpVersion, dbNow, Em, fromDbTime, PdrModelJob, statusFields, toDbTime, transaction } from '@pdr/persistence';

type JobKey = { id: number; grid_id: number; generation: number };

/**
 * What the planner's dispatch sweep asks of the database (the planner is the one publisher of job
 * events; state only says which jobs need one). Rows are taken with FOR UPDATE SKIP LOCKED and changed
 * in the same short transaction, so two planners' sweeps never take the same job.
 */

/** Pending jobs untouched for `olderThanMs` (their planner died between persisting and publishing). */
export async function takeStalePending(em: Em, req: RpcRequestParsed<'jobsTakeStalePending'>, installationId: string): Promise<DispatchBatch> {
  const jobs = await transaction(em, async (tem) => {
    const rows = await tem
      .createQueryBuilder(PdrModelJob)
      .select(['id', 'grid_id', 'generation'])
      .where({ status: 'pending', grid_id: { $ne: null } })
      .andWhere('coalesce(time_updated, time_created) < now(3) - interval ? microsecond', [req.olderThanMs * 1000])
      .orderBy({ id: 'asc' })
      .limit(req.limit)
      .setLockMode(LockMode.PESSIMISTIC_PARTIAL_WRITE) // FOR UPDATE SKIP LOCKED
      .execute<JobKey[]>('all', false);
    // touched, so no other sweep takes them again before olderThanMs has passed once more
    if (rows.length) await tem.nativeUpdate(PdrModelJob, { id: { $in: rows.map((r) => r.id) }, status: 'pending' }, { time_updated: dbNow() });
    return rows.map((r): DispatchJob => [r.id, r.grid_id, r.generation]);
  });
  return { installationId, jobs };
}

/** Counts of queued and running jobs, and one page of the queued ones, to compare with the stream. */
export async function outstandingJobs(em: Em, req: RpcRequestParsed<'jobsOutstanding'>, installationId: string): Promise<RpcReply<'jobsOutstanding'>> {
  const [counts] = await em
    .createQueryBuilder(PdrModelJob)
    .select([raw("SUM(status = 'queued') AS queued"), raw("SUM(status = 'running') AS running"), raw('NOW(3) AS now')])
    .where({ status: { $in: ['queued', 'running'] } })
    .execute<{ queued: number | string | null; running: number | string | null; now: string | Date }[]>('all', false);
  const jobs = req.limit
    ? await em
        .createQueryBuilder(PdrModelJob)
        .select(['id', 'grid_id', 'generation', 'queued_at'])
        .where({ status: 'queued', grid_id: { $ne: null }, id: { $gt: req.afterId } })
        .orderBy({ id: 'asc' })
        .limit(req.limit)
        .execute<{ id: number; grid_id: number; generation: number; queued_at: string | Date | null }[]>('all', false)
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
    // still pending, or queued since before queuedBefore (or at an unknown time)
    const queued = before === null ? { status: 'queued' } : { status: 'queued', $or: [{ queued_at: null }, { queued_at: { $lt: before } }] };
    const rows = await tem
      .createQueryBuilder(PdrModelJob)
      .select(['id', 'grid_id', 'generation'])
      .where({ id: { $in: ids }, grid_id: { $ne: null }, cancel_requested: false, $or: [{ status: 'pending' }, queued] })
      .orderBy({ id: 'asc' })
      .setLockMode(LockMode.PESSIMISTIC_PARTIAL_WRITE) // FOR UPDATE SKIP LOCKED
      .execute<JobKey[]>('all', false);
    if (!rows.length) return [];
    await tem.nativeUpdate(
      PdrModelJob,
      { id: { $in: rows.map((r) => r.id) } },
      { ...statusFields('pending'), generation: raw('generation + 1'), ...bumpVersion(), queued_at: null, reason: `event published again: ${req.reason}` },
    );
    return rows.map((r): DispatchJob => [r.id, r.grid_id, r.generation + 1]);
  });
  return { reply: { installationId, jobs }, changed: jobs.map(([id]) => id) };
}
