import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { dbNow, Em, PdrModelJob, run, transaction } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * Use case "heartbeat": the attempt that owns the running job refreshes heartbeat_at (no version
 * bump: not a status change). alive=false when this attempt no longer owns it (reclaimed, released,
 * finished, cancelled); cancel=true when the user cancelled the job or its grid with kill.
 */
export async function heartbeat(em: Em, req: RpcRequestParsed<'jobHeartbeat'>): Promise<RpcReply<'jobHeartbeat'>> {
  return transaction(em, async (tem) => {
    const owned = (await tem.nativeUpdate(PdrModelJob, { id: req.jobId, attempt: req.attempt, status: 'running' }, { heartbeat_at: dbNow() })) === 1;
    const job = await loadJobStateOrFail(tem, req.jobId);
    const kill = job.cancelRequested && job.cancelKill;
    if (!owned) return { alive: false, cancel: kill || job.status === 'cancelled' };
    return { alive: true, cancel: kill };
  });
}

/**
 * Use case "heartbeat of a runner": the attempts of one runner that still own their running jobs refresh
 * heartbeat_at, in one statement; the reply says per attempt what `heartbeat` says for one.
 */
export async function heartbeatMany(em: Em, req: RpcRequestParsed<'jobsHeartbeat'>): Promise<RpcReply<'jobsHeartbeat'>> {
  const pairs = [...new Map(req.attempts.map((a) => [`${a.jobId}:${a.attempt}`, a])).values()];
  return transaction(em, async (tem) => {
    // SQL, not nativeUpdate with a $or of the pairs: for 1 000 attempts MikroORM's criteria processing took
    // 21–25 ms CPU per request against 3–4 ms for this statement (MikroORM 6.6, warm; docs/benchmarks.md),
    // and a runner's heartbeat round carries up to MAX_HEARTBEATS_PER_REQUEST attempts
    await run(
      tem,
      `UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) WHERE status = 'running' AND (${pairs.map(() => '(id = ? AND attempt = ?)').join(' OR ')})`,
      pairs.flatMap((a) => [a.jobId, a.attempt]),
    );
    const rows = await tem
      .createQueryBuilder(PdrModelJob)
      .select(['id', 'status', 'attempt', 'cancel_requested', 'cancel_kill'])
      .where({ id: { $in: pairs.map((a) => a.jobId) } })
      .execute<{ id: number; status: string; attempt: number; cancel_requested: number | boolean; cancel_kill: number | boolean }[]>('all', false);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return {
      jobs: pairs.map((a) => {
        const r = byId.get(a.jobId);
        const kill = Boolean(r && r.cancel_requested && r.cancel_kill);
        const alive = Boolean(r && r.status === 'running' && r.attempt === a.attempt);
        return { jobId: a.jobId, attempt: a.attempt, alive, cancel: alive ? kill : kill || r?.status === 'cancelled' };
      }),
    };
  });
}
