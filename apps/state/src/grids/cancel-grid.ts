import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { all, CLOSE_TIMES_SQL, Em, inList, run, setStatusSql, transaction } from '@pdr/persistence';
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
  const kill = req.kill ? 1 : 0;
  // every statement runs in transaction(): a deadlock with a concurrent claim or finish is retried
  await transaction(em, (tem) => run(tem, 'UPDATE grids SET cancel_requested = 1, cancel_kill = cancel_kill OR ? WHERE id = ?', [kill, grid.id]));
  const changed: number[] = [];
  for (;;) {
    const ids = await transaction(em, async (tem) => {
      const locked = (
        await all<{ id: number }>(
          tem,
          `SELECT j.id FROM grid_points gp JOIN pdr_model_jobs j ON j.id = gp.job_id
           WHERE gp.grid_id = ? AND j.status IN ('pending', 'queued') ORDER BY j.id LIMIT ${CHUNK} FOR UPDATE`,
          [grid.id],
        )
      ).map((r) => r.id);
      if (!locked.length) return locked;
      await run(
        tem,
        `UPDATE pdr_model_jobs SET ${setStatusSql('cancelled')}, version = version + 1, reason = 'cancelled by the user', ${CLOSE_TIMES_SQL}
         WHERE id IN (${inList(locked.length)}) AND status IN ('pending', 'queued')`,
        locked,
      );
      return locked;
    });
    if (!ids.length) break;
    changed.push(...ids);
  }
  const flagged = await transaction(em, (tem) =>
    run(
      tem,
      `UPDATE pdr_model_jobs j JOIN grid_points gp ON gp.job_id = j.id
       SET j.cancel_requested = 1, j.cancel_kill = j.cancel_kill OR ?
       WHERE gp.grid_id = ? AND j.status = 'running'`,
      [kill, grid.id],
    ),
  );
  return { reply: { gridId: grid.id, cancelled: changed.length, runningFlagged: flagged.affectedRows }, changed };
}
