import { JobStatus, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { JobAttempt, JobStep } from '@pdr/persistence';
import { asJobStatus, Em, fromDbTime, one } from '@pdr/persistence';
import { notFound } from '../infrastructure/errors';
import { JOB_ROW_SELECT, JobDbRow, loadFiles, loadParameters, toJobRow } from './job-rows';

/**
 * Use case "job get": one job with its parameter row, stored files and attempt history (steps per
 * attempt). The history is read through the message's entity manager (JobAttempt/JobStep entities).
 */
export async function getJob(em: Em, req: RpcRequestParsed<'jobGet'>): Promise<RpcReply<'jobGet'>> {
  const r = await one<JobDbRow>(em, `SELECT ${JOB_ROW_SELECT} FROM pdr_model_jobs j LEFT JOIN model_names m ON m.id = j.model_name_id WHERE j.id = ?`, [req.jobId]);
  if (!r) throw notFound(`job ${req.jobId} does not exist`);
  const job = toJobRow(r);
  if (r.kosmatau_parameters_id !== null) job.parameters = (await loadParameters(em, [r.kosmatau_parameters_id])).get(r.kosmatau_parameters_id);
  job.files = (await loadFiles(em, [r.id])).get(r.id) ?? [];
  const attempts = await em.find(JobAttempt, { job_id: req.jobId }, { orderBy: { attempt: 'asc' } });
  const steps = await em.find(JobStep, { job_id: req.jobId }, { orderBy: { id: 'asc' } });
  return {
    job,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      runnerId: a.runner_id,
      status: asJobStatus(a.status) as JobStatus,
      reason: a.reason,
      startedAt: fromDbTime(a.started_at),
      finishedAt: fromDbTime(a.finished_at),
      exitCodes: jsonValue(a.exit_codes) ?? null,
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
