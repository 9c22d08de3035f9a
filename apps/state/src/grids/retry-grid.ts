import { JobStatus, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { all, Em, inList, run, statusList, transaction } from '@pdr/persistence';
import { repend } from '../points/upsert-points';
import { selectGrid } from './load-grid';

const CHUNK = 1000;

/**
 * Use case "retry a grid": failed/problem points (and cancelled ones with includeCancelled) → pending
 * with generation + 1 and this grid's run options; replies [jobId, generation] for the planner to
 * publish. includeCancelled also lifts the grid's cancel flag.
 */
export async function retryGrid(em: Em, req: RpcRequestParsed<'gridRetry'>): Promise<{ reply: Omit<RpcReply<'gridRetry'>, 'installationId'>; changed: number[] }> {
  const grid = await selectGrid(em, req.selector);
  const from: JobStatus[] = req.includeCancelled ? ['failed', 'problem', 'cancelled'] : ['failed', 'problem'];
  if (req.includeCancelled) await transaction(em, (tem) => run(tem, 'UPDATE grids SET cancel_requested = 0, cancel_kill = 0 WHERE id = ?', [grid.id]));
  const changed: number[] = [];
  const jobs: [number, number][] = [];
  let afterId = 0;
  for (;;) {
    const ids = (
      await all<{ id: number }>(
        em,
        `SELECT j.id FROM grid_points gp JOIN pdr_model_jobs j ON j.id = gp.job_id
         WHERE gp.grid_id = ? AND j.id > ? AND j.status IN ${statusList(from)} ORDER BY j.id LIMIT ${CHUNK}`,
        [grid.id, afterId],
      )
    ).map((r) => r.id);
    if (!ids.length) break;
    afterId = ids[ids.length - 1];
    const rows = await transaction(em, async (tem) => {
      const locked = await repend(tem, ids, from, grid);
      if (!locked.length) return [];
      return all<{ id: number; generation: number }>(tem, `SELECT id, generation FROM pdr_model_jobs WHERE id IN (${inList(locked.length)}) ORDER BY id`, locked);
    });
    for (const r of rows) {
      changed.push(r.id);
      jobs.push([r.id, r.generation]);
    }
  }
  return { reply: { gridId: grid.id, jobs }, changed };
}
