import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { bumpVersion, dbNow, Em, JobAttempt, PdrModelJob, statusFields, transaction } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * Use case "release": the owning attempt gives a running job back (graceful shutdown, transient
 * failure): running(attempt) → queued, so the redelivered event can be claimed by another runner
 * (same generation). Not the owner any more → applied:false (idempotent, not an error).
 */
export async function releaseJob(em: Em, req: RpcRequestParsed<'jobRelease'>): Promise<{ reply: RpcReply<'jobRelease'>; changed: number[] }> {
  return transaction(em, async (tem) => {
    const reason = `released by ${req.runnerId}: ${req.reason}`;
    const applied =
      (await tem.nativeUpdate(
        PdrModelJob,
        { id: req.jobId, attempt: req.attempt, status: 'running' },
        { ...statusFields('queued'), ...bumpVersion(), heartbeat_at: null, queued_at: dbNow(), reason },
      )) === 1;
    if (applied) await tem.nativeUpdate(JobAttempt, { job_id: req.jobId, attempt: req.attempt }, { status: 'queued', reason, finished_at: dbNow() });
    const job = await loadJobStateOrFail(tem, req.jobId);
    return { reply: { applied, status: job.status }, changed: applied ? [job.id] : [] };
  });
}
