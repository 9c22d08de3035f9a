import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { Em, run, setStatusSql, transaction } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * Use case "release": the owning attempt gives a running job back (graceful shutdown, transient
 * failure): running(attempt) → queued, so the redelivered event can be claimed by another runner
 * (same generation). Not the owner any more → applied:false (idempotent, not an error).
 */
export async function releaseJob(em: Em, req: RpcRequestParsed<'jobRelease'>): Promise<{ reply: RpcReply<'jobRelease'>; changed: number[] }> {
  return transaction(em, async (tem) => {
    const reason = `released by ${req.runnerId}: ${req.reason}`;
    const cas = await run(
      tem,
      `UPDATE pdr_model_jobs SET ${setStatusSql('queued')}, version = version + 1, heartbeat_at = NULL, queued_at = NOW(3), reason = ?
       WHERE id = ? AND attempt = ? AND status = 'running'`,
      [reason, req.jobId, req.attempt],
    );
    if (cas.affectedRows === 1) {
      await run(tem, `UPDATE job_attempts SET status = 'queued', reason = ?, finished_at = NOW(3) WHERE job_id = ? AND attempt = ?`, [reason, req.jobId, req.attempt]);
    }
    const job = await loadJobStateOrFail(tem, req.jobId);
    return { reply: { applied: cas.affectedRows === 1, status: job.status }, changed: cas.affectedRows === 1 ? [job.id] : [] };
  });
}
