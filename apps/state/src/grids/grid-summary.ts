import { GridSummary, JOB_STATUSES, RpcReply, RpcRequestParsed, StatusCounts } from '@pdr/contracts';
import { raw } from '@mikro-orm/core';
import { Em, fromDbTime, GridCount, GridPoint, MEMBER_COUNT } from '@pdr/persistence';
import { LoadedGrid, recentGrids, selectGrid } from './load-grid';

interface CountRow {
  grid_id: number;
  status: string;
  n: number | string;
  first_start: string | null;
  last_finish: string | null;
}

/**
 * Status counts of grids, read from grid_counts (entities/grid.ts: kept by triggers in the same
 * transaction as every job and membership change), a constant number of queries for all grids: a few
 * hundred rows per grid whatever its size, instead of counting 10^6 index entries.
 *
 * A grid's points are its grid_points rows (its MEMBER_COUNT); a job's grid_id is the grid that created
 * it or last sent it to run again (retry, force-onion), so a point shared by two grids is owned by one of
 * them. Usually a grid owns every member job: then its owned counts are its status counts. Owned jobs are
 * always members, so equal totals prove it; grids where they differ are counted through the membership
 * join (a grid sharing points with another pays the GROUP BY of its members).
 */
export async function summarize(em: Em, grids: LoadedGrid[]): Promise<GridSummary[]> {
  if (!grids.length) return [];
  const ids = grids.map((g) => g.id);
  const counted = await em
    .createQueryBuilder(GridCount)
    .select(['grid_id', 'what', raw('SUM(n) AS n'), raw('MIN(first_start) AS first_start'), raw('MAX(last_finish) AS last_finish')])
    .where({ grid_id: { $in: ids } })
    .groupBy(['grid_id', 'what'])
    .execute<(Omit<CountRow, 'status'> & { what: string })[]>('all', false);
  const owned: CountRow[] = counted.filter((r) => r.what !== MEMBER_COUNT).map(({ what, ...r }) => ({ ...r, status: what }));
  const members = counted.filter((r) => r.what === MEMBER_COUNT);
  const memberCount = new Map(members.map((r) => [r.grid_id, Number(r.n)]));
  const ownedCount = new Map<number, number>();
  for (const r of owned) ownedCount.set(r.grid_id, (ownedCount.get(r.grid_id) ?? 0) + Number(r.n));
  const sharing = ids.filter((id) => (memberCount.get(id) ?? 0) !== (ownedCount.get(id) ?? 0));
  const rows = owned.filter((r) => !sharing.includes(r.grid_id));
  if (sharing.length) {
    rows.push(
      ...(await em
        .createQueryBuilder(GridPoint, 'gp')
        .select(['gp.grid_id', 'j.status', raw('COUNT(*) AS n'), raw('MIN(j.time_of_start) AS first_start'), raw('MAX(j.time_of_finish) AS last_finish')])
        .join('gp.job_id', 'j')
        .where({ grid_id: { $in: sharing } })
        .groupBy(['gp.grid_id', 'j.status'])
        .execute<CountRow[]>('all', false)),
    );
  }
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
      requestHash: g.requestHash,
      user: g.username,
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
