import { raw } from '@mikro-orm/core';
import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { bumpVersion, dbNow, Em, JobAttempt, PdrModelJob, staleRunning, statusFields, transaction } from '@pdr/persistence';
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
    // pdr_run's times are always written (CLOSE_TIMES_SQL as entity data, in its order: MariaDB assigns
    // left to right, so execution_ms/execution_time see the new time_of_start/time_of_finish)
    const applied =
      (await tem.nativeUpdate(
        PdrModelJob,
        { id: req.jobId, version: before.version, $or: [{ status: { $in: ['pending', 'queued'] } }, staleRunning(opts.staleHeartbeatMs)] },
        {
          ...statusFields('failed'),
          ...bumpVersion(),
          heartbeat_at: null,
          reason: `abandoned (${req.runnerId}): ${req.reason}`,
          time_of_start: raw('COALESCE(time_of_start, NOW(3))'),
          time_of_finish: dbNow(),
          execution_ms: raw('TIMESTAMPDIFF(MICROSECOND, time_of_start, time_of_finish) DIV 1000'),
          execution_time: raw("TIMESTAMPADD(MICROSECOND, TIMESTAMPDIFF(MICROSECOND, time_of_start, time_of_finish), '1970-01-01 00:00:00')"),
        },
      )) === 1;
    if (applied && before.status === 'running') {
      await tem.nativeUpdate(
        JobAttempt,
        { job_id: req.jobId, attempt: before.attempt, finished_at: null },
        { status: 'failed', reason: `abandoned: ${req.reason}`, finished_at: dbNow() },
      );
    }
    const job = await loadJobStateOrFail(tem, req.jobId);
    return { reply: { applied, status: job.status }, changed: applied ? [job.id] : [] };
  });
}
