import { LockMode } from '@mikro-orm/core';
import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { bumpVersion, closeTimesFields, Em, Grid, GridPoint, PdrModelJob, statusFields, transaction } from '@pdr/persistence';
import { selectGrid } from './load-grid';

const CHUNK = 1000;

/**
 * Use case "cancel a grid": the grid is flagged; its pending/queued points → cancelled (in chunks of
 * short transactions; a runner's claim then loses the compare-and-set); running points are flagged
 * cancel_requested (+ cancel_kill with kill: their heartbeat reply tells the runner to stop; without
 * kill they finish normally). A point shared with another grid is cancelled too: it is one job.
 */
export async function cancelGrid(em: Em, req: RpcRequestParsed<'gridCancel'>): Promise<{ reply: RpcReply<'gridCancel'>; changed: number[] }> {
  const grid = await selectGrid(em, req.selector);
  const kill = req.kill ? { cancel_kill: true } : {};
  // every statement runs in transaction(): a deadlock with a concurrent claim or finish is retried
  await transaction(em, (tem) => tem.nativeUpdate(Grid, { id: grid.id }, { cancel_requested: true, ...kill }));
  const changed: number[] = [];
  for (;;) {
    const ids = await transaction(em, async (tem) => {
      const rows = await tem
        .createQueryBuilder(GridPoint, 'gp')
        .select('j.id')
        .join('gp.job_id', 'j')
        .where({ grid_id: grid.id, 'j.status': { $in: ['pending', 'queued'] } })
        .orderBy({ 'j.id': 'asc' })
        .limit(CHUNK)
        .setLockMode(LockMode.PESSIMISTIC_WRITE)
        .execute<{ id: number }[]>('all', false);
      const locked = rows.map((r) => r.id);
      if (!locked.length) return locked;
      await tem.nativeUpdate(
        PdrModelJob,
        { id: { $in: locked }, status: { $in: ['pending', 'queued'] } },
        { ...statusFields('cancelled'), ...bumpVersion(), reason: 'cancelled by the user', ...closeTimesFields() },
      );
      return locked;
    });
    if (!ids.length) break;
    changed.push(...ids);
  }
  const flagged = await transaction(em, (tem) =>
    tem.nativeUpdate(
      PdrModelJob,
      // the grid's members as a subquery: UPDATE … WHERE status = 'running' AND id IN (SELECT job_id FROM grid_points …)
      { status: 'running', id: { $in: tem.createQueryBuilder(GridPoint, 'gp').select('gp.job_id').where({ grid_id: grid.id }).getKnexQuery() as never } },
      { cancel_requested: true, ...kill },
    ),
  );
  return { reply: { gridId: grid.id, cancelled: changed.length, runningFlagged: flagged }, changed };
}
