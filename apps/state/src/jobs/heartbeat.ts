import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { Em, run, transaction } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * Use case "heartbeat": the attempt that owns the running job refreshes heartbeat_at (no version
 * bump: not a status change). alive=false when this attempt no longer owns it (reclaimed, released,
 * finished, cancelled); cancel=true when the user cancelled the job or its grid with kill.
 */
export async function heartbeat(em: Em, req: RpcRequestParsed<'jobHeartbeat'>): Promise<RpcReply<'jobHeartbeat'>> {
  return transaction(em, async (tem) => {
    const res = await run(tem, `UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) WHERE id = ? AND attempt = ? AND status = 'running'`, [req.jobId, req.attempt]);
    const job = await loadJobStateOrFail(tem, req.jobId);
    const kill = job.cancelRequested && job.cancelKill;
    if (res.affectedRows !== 1) return { alive: false, cancel: kill || job.status === 'cancelled' };
    return { alive: true, cancel: kill };
  });
}
