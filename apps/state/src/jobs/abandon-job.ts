import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { CLOSE_TIMES_SQL, Em, run, setStatusSql, STALE_RUNNING_SQL, transaction } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

export interface AbandonOptions {
  staleHeartbeatMs: number;
}

/**
 * Use case "abandon": a job that can never run (deliveries past max_deliver, an event that cannot be
 * handled) → failed with the reason; needs no claim. pending/queued jobs, and running ones whose
 * heartbeat is stale, are abandoned; a running job with a live heartbeat is left to its runner
 * (applied:false), so a late duplicate event cannot fail a job that is being computed.
 */
export async function abandonJob(
  em: Em,
  req: RpcRequestParsed<'jobAbandon'>,
  opts: AbandonOptions,
): Promise<{ reply: RpcReply<'jobAbandon'>; changed: number[] }> {
  return transaction(em, async (tem) => {
    const before = await loadJobStateOrFail(tem, req.jobId, true);
    const cas = await run(
      tem,
      `UPDATE pdr_model_jobs SET ${setStatusSql('failed')}, version = version + 1, heartbeat_at = NULL, reason = ?, ${CLOSE_TIMES_SQL}
       WHERE id = ? AND version = ?
         AND (status IN ('pending', 'queued') OR ${STALE_RUNNING_SQL})`,
      [`abandoned (${req.runnerId}): ${req.reason}`, req.jobId, before.version, opts.staleHeartbeatMs * 1000],
    );
    if (cas.affectedRows === 1 && before.status === 'running') {
      await run(tem, `UPDATE job_attempts SET status = 'failed', reason = ?, finished_at = NOW(3) WHERE job_id = ? AND attempt = ? AND finished_at IS NULL`, [
        `abandoned: ${req.reason}`,
        req.jobId,
        before.attempt,
      ]);
    }
    const job = await loadJobStateOrFail(tem, req.jobId);
    return { reply: { applied: cas.affectedRows === 1, status: job.status }, changed: cas.affectedRows === 1 ? [job.id] : [] };
  });
}
