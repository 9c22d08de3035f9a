import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { Em } from '@pdr/persistence';
import { JobDbRow, jobRowQuery, loadFiles, loadParameters, toJobRow } from './job-rows';

/**
 * Use case "jobs query": filters (grid membership, model name, statuses) and keyset paging by job id
 * (`afterId`, ascending; `nextAfterId` is null on the last page). Parameters and files are loaded
 * with one query each for the whole page when asked for.
 */
export async function queryJobs(em: Em, req: RpcRequestParsed<'jobsQuery'>): Promise<RpcReply<'jobsQuery'>> {
  if (req.status !== undefined && !req.status.length) return { jobs: [], nextAfterId: null };
  const rows = await jobRowQuery(em, req.gridId)
    .andWhere({
      'j.id': { $gt: req.afterId },
      ...(req.modelName !== undefined ? { 'm.model_name': req.modelName } : {}),
      ...(req.status !== undefined ? { 'j.status': { $in: req.status } } : {}),
    })
    .orderBy({ 'j.id': 'asc' })
    .limit(req.limit + 1)
    .execute<JobDbRow[]>('all', false);
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
