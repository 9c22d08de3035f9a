import { JobStatus, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { raw } from '@mikro-orm/core';
import { asJobStatus, Em, fromDbTime, JobAttempt, JobStep } from '@pdr/persistence';
import { notFound } from '../infrastructure/errors';
import { loadGrid } from '../grids/load-grid';
import { JobDbRow, jobRowQuery, loadFiles, loadParameters, toJobRow } from './job-rows';

/**
 * Use case "job get": one job with its parameter row, stored files and attempt history (steps per
 * attempt). The history is read through the message's entity manager (JobAttempt/JobStep entities).
 */
export async function getJob(em: Em, req: RpcRequestParsed<'jobGet'>): Promise<RpcReply<'jobGet'>> {
  let r: JobDbRow | undefined;
  let sameName: number | undefined;
  if (req.jobId !== undefined) {
    [r] = await jobRowQuery(em).where({ 'j.id': req.jobId }).execute<JobDbRow[]>('all', false);
    if (!r) throw notFound(`job ${req.jobId} does not exist`);
  } else {
    const where = { 'j.model_job_name': req.jobName as string, ...(req.modelName === undefined ? {} : { 'm.model_name': req.modelName }) };
    [r] = await jobRowQuery(em).where(where).orderBy({ 'j.id': 'desc' }).limit(1).execute<JobDbRow[]>('all', false);
    const inModel = req.modelName === undefined ? '' : ` in model ${JSON.stringify(req.modelName)}`;
    if (!r) throw notFound(`no job named ${JSON.stringify(req.jobName)}${inModel}`);
    const [c] = await jobRowQuery(em).select(raw('COUNT(*) AS n')).where(where).execute<{ n: number | string }[]>('all', false);
    sameName = Number(c?.n ?? 1);
  }
  const job = toJobRow(r);
  if (r.kosmatau_parameters_id !== null) job.parameters = (await loadParameters(em, [r.kosmatau_parameters_id])).get(r.kosmatau_parameters_id);
  job.files = (await loadFiles(em, [r.id])).get(r.id) ?? [];
  const attempts = await em.find(JobAttempt, { job_id: r.id }, { orderBy: { attempt: 'asc' } });
  const steps = await em.find(JobStep, { job_id: r.id }, { orderBy: { id: 'asc' } });
  const grid = r.grid_id === null ? undefined : await loadGrid(em, r.grid_id);
  return {
    job,
    ...(sameName !== undefined ? { sameName } : {}),
    grid: grid ? { storage: grid.run.storage, keepTmp: grid.run.keepTmp, onionSpecies: grid.onionSpecies.split(/\s+/).filter((x) => x !== '') } : null,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      generation: a.generation,
      runnerId: a.runner_id,
      exitCodes: (jsonValue(a.exit_codes) ?? null) as RpcReply<'jobGet'>['attempts'][number]['exitCodes'],
      status: asJobStatus(a.status) as JobStatus,
      reason: a.reason,
      startedAt: fromDbTime(a.started_at),
      finishedAt: fromDbTime(a.finished_at),
      steps: steps.filter((s) => s.attempt === a.attempt).map((s) => ({ step: s.step, at: fromDbTime(s.at)!, detail: jsonValue(s.detail) })),
    })),
  };
}

/** MariaDB's JSON is LONGTEXT: the driver hands the column back as text, the reply carries the value. */
function jsonValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
