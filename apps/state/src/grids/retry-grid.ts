import { JobStatus, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { Em, Grid, GridPoint, PdrModelJob, transaction } from '@pdr/persistence';
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
  if (req.includeCancelled) await transaction(em, (tem) => tem.nativeUpdate(Grid, { id: grid.id }, { cancel_requested: false, cancel_kill: false }));
  const changed: number[] = [];
  const jobs: [number, number][] = [];
  let afterId = 0;
  for (;;) {
    const ids = (
      await em
        .createQueryBuilder(GridPoint, 'gp')
        .select('j.id')
        .join('gp.job_id', 'j')
        .where({ grid_id: grid.id, 'j.id': { $gt: afterId }, 'j.status': { $in: from } })
        .orderBy({ 'j.id': 'asc' })
        .limit(CHUNK)
        .execute<{ id: number }[]>('all', false)
    ).map((r) => r.id);
    if (!ids.length) break;
    afterId = ids[ids.length - 1];
    const rows = await transaction(em, async (tem) => {
      const locked = await repend(tem, ids, from, grid);
      if (!locked.length) return [];
      return tem.createQueryBuilder(PdrModelJob).select(['id', 'generation']).where({ id: { $in: locked } }).orderBy({ id: 'asc' }).execute<{ id: number; generation: number }[]>('all', false);
    });
    for (const r of rows) {
      changed.push(r.id);
      jobs.push([r.id, r.generation]);
    }
  }
  return { reply: { gridId: grid.id, jobs }, changed };
}
