import { JOB_STATUSES, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { all, asJobStatus, Em } from '@pdr/persistence';
import { loadGridOrFail } from './load-grid';

interface MapRow {
  id: number;
  model_job_name: string;
  status: string;
  attempt: number;
  execution_ms: number | string | null;
}

/**
 * Use case "grid map": a page of a grid's points (its grid_points memberships, ascending job id) as
 * compact columns. One range read of the (grid_id, job_id) primary key joined to the jobs by primary key.
 * Raw SQL because of STRAIGHT_JOIN, which the QueryBuilder cannot write: it pins that join order for the
 * 10^5-point maps of the dashboard (the one read here; everything else of the grid goes through the EM).
 */
export async function gridMap(em: Em, req: RpcRequestParsed<'gridMap'>): Promise<RpcReply<'gridMap'>> {
  await loadGridOrFail(em, req.gridId);
  const rows = await all<MapRow>(
    em,
    `SELECT j.id, j.model_job_name, j.status, j.attempt, j.execution_ms
     FROM grid_points gp STRAIGHT_JOIN pdr_model_jobs j ON j.id = gp.job_id
     WHERE gp.grid_id = ? AND gp.job_id > ? ORDER BY gp.job_id LIMIT ?`,
    [req.gridId, req.afterId, req.limit + 1],
  );
  const more = rows.length > req.limit;
  const page = more ? rows.slice(0, req.limit) : rows;
  return {
    ids: page.map((r) => r.id),
    names: page.map((r) => r.model_job_name),
    status: page.map((r) => JOB_STATUSES.indexOf(asJobStatus(r.status))),
    attempts: page.map((r) => r.attempt),
    ms: page.map((r) => (r.execution_ms === null ? null : Number(r.execution_ms))),
    nextAfterId: more ? page[page.length - 1].id : null,
  };
}
