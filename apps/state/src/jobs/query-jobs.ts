import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { all, Em, SqlValue, statusList } from '@pdr/persistence';
import { JOB_ROW_SELECT, JobDbRow, loadFiles, loadParameters, toJobRow } from './job-rows';

/**
 * Use case "jobs query": filters (grid membership, model name, statuses) and keyset paging by job id
 * (`afterId`, ascending; `nextAfterId` is null on the last page). Parameters and files are loaded
 * with one query each for the whole page when asked for.
 */
export async function queryJobs(em: Em, req: RpcRequestParsed<'jobsQuery'>): Promise<RpcReply<'jobsQuery'>> {
  const where: string[] = ['j.id > ?'];
  const params: SqlValue[] = [req.afterId];
  let from = 'pdr_model_jobs j LEFT JOIN model_names m ON m.id = j.model_name_id';
  if (req.gridId !== undefined) {
    from = `grid_points gp JOIN pdr_model_jobs j ON j.id = gp.job_id LEFT JOIN model_names m ON m.id = j.model_name_id`;
    where.push('gp.grid_id = ?');
    params.push(req.gridId);
  }
  if (req.modelName !== undefined) {
    where.push('m.model_name = ?');
    params.push(req.modelName);
  }
  if (req.status !== undefined) {
    if (!req.status.length) return { jobs: [], nextAfterId: null };
    where.push(`j.status IN ${statusList(req.status)}`);
  }
  const rows = await all<JobDbRow>(em, `SELECT ${JOB_ROW_SELECT} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY j.id LIMIT ?`, [...params, req.limit + 1]);
  const more = rows.length > req.limit;
  const page = more ? rows.slice(0, req.limit) : rows;
  const jobs = page.map((r) => toJobRow(r, req.gridId));
  if (req.withParameters) {
    const params = await loadParameters(em, [...new Set(page.map((r) => r.kosmatau_parameters_id).filter((x): x is number => x !== null))]);
    page.forEach((r, i) => {
      const p = r.kosmatau_parameters_id === null ? undefined : params.get(r.kosmatau_parameters_id);
      if (p) jobs[i].parameters = p;
    });
  }
  if (req.withFiles) {
    const files = await loadFiles(em, page.map((r) => r.id));
    page.forEach((r, i) => (jobs[i].files = files.get(r.id) ?? []));
  }
  return { jobs, nextAfterId: more ? page[page.length - 1].id : null };
}
