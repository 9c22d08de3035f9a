import { GridSummary, JOB_STATUSES, RpcReply, RpcRequestParsed, StatusCounts } from '@pdr/contracts';
import { all, Em, fromDbTime, inList } from '@pdr/persistence';
import { LoadedGrid, recentGrids, selectGrid } from './load-grid';

interface CountRow {
  grid_id: number;
  status: string;
  n: number | string;
  first_start: string | null;
  last_finish: string | null;
}

/** Status counts of grids, counted by the database (GROUP BY over grid membership), one query for all. */
export async function summarize(em: Em, grids: LoadedGrid[]): Promise<GridSummary[]> {
  if (!grids.length) return [];
  const rows = await all<CountRow>(
    em,
    `SELECT gp.grid_id, j.status, COUNT(*) AS n, MIN(j.time_of_start) AS first_start, MAX(j.time_of_finish) AS last_finish
     FROM grid_points gp JOIN pdr_model_jobs j ON j.id = gp.job_id
     WHERE gp.grid_id IN (${inList(grids.length)})
     GROUP BY gp.grid_id, j.status`,
    grids.map((g) => g.id),
  );
  return grids.map((g) => {
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
    let total = 0;
    let first: string | null = null;
    let last: string | null = null;
    for (const r of rows) {
      if (r.grid_id !== g.id) continue;
      const n = Number(r.n);
      total += n;
      if (r.status in counts) counts[r.status as keyof StatusCounts] += n;
      if (r.first_start && (first === null || r.first_start < first)) first = r.first_start;
      if (r.last_finish && (last === null || r.last_finish > last)) last = r.last_finish;
    }
    return {
      gridId: g.id,
      modelName: g.modelName,
      modelPath: g.modelPath,
      createdAt: fromDbTime(g.createdAt)!,
      total,
      counts,
      firstStartedAt: fromDbTime(first),
      lastFinishedAt: fromDbTime(last),
      cancelRequested: g.cancelRequested,
      seed: g.seed,
    };
  });
}

export async function gridStatus(em: Em, req: RpcRequestParsed<'gridStatus'>): Promise<RpcReply<'gridStatus'>> {
  const grid = await selectGrid(em, req.selector);
  const [summary] = await summarize(em, [grid]);
  return { grid: summary };
}

export async function gridList(em: Em, req: RpcRequestParsed<'gridList'>): Promise<RpcReply<'gridList'>> {
  return { grids: await summarize(em, await recentGrids(em, req.limit)) };
}
