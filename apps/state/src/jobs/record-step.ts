import { ContractError, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { Em, run, transaction } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * Use case "step": one line of an attempt's history (job_steps). Recorded for any attempt that was
 * claimed (history is kept even after the attempt lost the job); a step of the owning attempt also
 * counts as a heartbeat. An attempt that was never claimed → CONFLICT.
 */
export async function recordStep(em: Em, req: RpcRequestParsed<'jobStep'>): Promise<RpcReply<'jobStep'>> {
  return transaction(em, async (tem) => {
    const ins = await run(
      tem,
      `INSERT INTO job_steps (job_id, attempt, step, detail, at)
       SELECT ?, ?, ?, ?, NOW(3) FROM job_attempts WHERE job_id = ? AND attempt = ?`,
      [req.jobId, req.attempt, req.step, JSON.stringify(req.detail), req.jobId, req.attempt],
    );
    if (ins.affectedRows !== 1) {
      await loadJobStateOrFail(tem, req.jobId); // NOT_FOUND for an unknown job
      throw new ContractError('CONFLICT', `attempt ${req.attempt} of job ${req.jobId} was never claimed`);
    }
    await run(tem, `UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) WHERE id = ? AND attempt = ? AND status = 'running'`, [req.jobId, req.attempt]);
    return { ok: true };
  });
}
