import { FileRole, JobRow, StoredFileInfo } from '@pdr/contracts';
import { KOSMATAU_PARAMETER_NAMES, ParameterValue } from '@pdr/domain';
import type { QueryBuilder } from '@mikro-orm/mysql';
import { asJobStatus, Em, fromDbTime, GridPoint, JobFile, KosmatauParameters, PdrModelJob } from '@pdr/persistence';

/** The columns of a job row (alias j; m = model_names). */
const JOB_ROW_FIELDS = [
  'j.id', 'j.grid_id', 'm.model_name', 'j.model_job_name', 'j.status', 'j.attempt', 'j.generation', 'j.reason',
  'j.time_of_start', 'j.time_of_finish', 'j.execution_ms', 'j.heartbeat_at', 'j.runner_id', 'j.output_directory', 'j.kosmatau_parameters_id',
];

/**
 * Job rows (alias j) with their model name (m), as raw rows (JobDbRow). With a grid id: the grid's
 * members, read through grid_points (gp) so a page walks that grid's part of the primary key only.
 */
export function jobRowQuery(em: Em, gridId?: number): QueryBuilder<object> {
  if (gridId === undefined) return em.createQueryBuilder(PdrModelJob, 'j').select(JOB_ROW_FIELDS).leftJoin('j.model_name_id', 'm') as unknown as QueryBuilder<object>;
  return em.createQueryBuilder(GridPoint, 'gp').select(JOB_ROW_FIELDS).join('gp.job_id', 'j').leftJoin('j.model_name_id', 'm').where({ grid_id: gridId }) as unknown as QueryBuilder<object>;
}

export interface JobDbRow {
  id: number;
  grid_id: number | null;
  model_name: string | null;
  model_job_name: string;
  status: string;
  attempt: number;
  generation: number;
  reason: string | null;
  time_of_start: string | null;
  time_of_finish: string | null;
  execution_ms: number | string | null;
  heartbeat_at: string | null;
  runner_id: string | null;
  output_directory: string | null;
  kosmatau_parameters_id: number | null;
}

export function toJobRow(r: JobDbRow, gridId?: number): JobRow {
  return {
    jobId: r.id,
    gridId: gridId ?? r.grid_id,
    modelName: r.model_name ?? '',
    jobName: r.model_job_name,
    status: asJobStatus(r.status),
    attempt: r.attempt,
    generation: r.generation,
    reason: r.reason,
    timeOfStart: fromDbTime(r.time_of_start),
    timeOfFinish: fromDbTime(r.time_of_finish),
    executionMs: r.execution_ms === null ? null : Number(r.execution_ms),
    heartbeatAt: fromDbTime(r.heartbeat_at),
    runnerId: r.runner_id,
    outputDirectory: r.output_directory,
  };
}

/** Parameter rows by kosmatau_parameters id (one query). */
export async function loadParameters(em: Em, ids: number[]): Promise<Map<number, Record<string, ParameterValue>>> {
  const out = new Map<number, Record<string, ParameterValue>>();
  if (!ids.length) return out;
  const rows = await em
    .createQueryBuilder(KosmatauParameters)
    .select(['id', ...KOSMATAU_PARAMETER_NAMES])
    .where({ id: { $in: ids } })
    .execute<Record<string, unknown>[]>('all', false);
  for (const r of rows) {
    const p: Record<string, ParameterValue> = {};
    for (const c of KOSMATAU_PARAMETER_NAMES) p[c] = r[c] as ParameterValue;
    out.set(r.id as number, p);
  }
  return out;
}

interface FileDbRow {
  job_id: number;
  /** written only from a checked jobFinish request (contracts fileRole) */
  role: FileRole;
  file_name: string;
  rel_path: string;
  full_path: string;
  file_size: number | string;
  modification_time: string;
  sha256_sum: string;
}

/** Stored files by job id (one query). */
export async function loadFiles(em: Em, jobIds: number[]): Promise<Map<number, StoredFileInfo[]>> {
  const out = new Map<number, StoredFileInfo[]>();
  if (!jobIds.length) return out;
  const rows = await em
    .createQueryBuilder(JobFile)
    .select(['job_id', 'role', 'file_name', 'rel_path', 'full_path', 'file_size', 'modification_time', 'sha256_sum'])
    .where({ job_id: { $in: jobIds } })
    .orderBy({ job_id: 'asc', id: 'asc' })
    .execute<FileDbRow[]>('all', false);
  for (const r of rows) {
    const list = out.get(r.job_id) ?? [];
    list.push({
      role: r.role,
      fileName: r.file_name,
      relPath: r.rel_path,
      fullPath: r.full_path,
      size: Number(r.file_size),
      mtime: fromDbTime(r.modification_time)!,
      sha256: r.sha256_sum,
    });
    out.set(r.job_id, list);
  }
  return out;
}
