import { asJobStatus, Em, one } from '@pdr/persistence';
import type { JobStatus } from '@pdr/contracts';
import { notFound } from '../infrastructure/errors';

/** The bookkeeping columns of a job that transitions look at. */
export interface JobState {
  id: number;
  status: JobStatus;
  attempt: number;
  generation: number;
  version: number;
  gridId: number | null;
  runnerId: string | null;
  heartbeatAt: string | null;
  cancelRequested: boolean;
  cancelKill: boolean;
  /** Milliseconds since the last heartbeat, by the database clock (null: none). */
  heartbeatAgeMs: number | null;
}

interface Row {
  id: number;
  status: string;
  attempt: number;
  generation: number;
  version: number;
  grid_id: number | null;
  runner_id: string | null;
  heartbeat_at: string | null;
  cancel_requested: number;
  cancel_kill: number;
  age_us: string | number | null;
}

export async function loadJobState(em: Em, jobId: number, forUpdate = false): Promise<JobState | undefined> {
  const r = await one<Row>(
    em,
    `SELECT id, status, attempt, generation, version, grid_id, runner_id, heartbeat_at, cancel_requested, cancel_kill,
       TIMESTAMPDIFF(MICROSECOND, heartbeat_at, NOW(3)) AS age_us
     FROM pdr_model_jobs WHERE id = ?${forUpdate ? ' FOR UPDATE' : ''}`,
    [jobId],
  );
  if (!r) return undefined;
  return {
    id: r.id,
    status: asJobStatus(r.status),
    attempt: r.attempt,
    generation: r.generation,
    version: r.version,
    gridId: r.grid_id,
    runnerId: r.runner_id,
    heartbeatAt: r.heartbeat_at,
    cancelRequested: !!r.cancel_requested,
    cancelKill: !!r.cancel_kill,
    heartbeatAgeMs: r.age_us === null ? null : Math.floor(Number(r.age_us) / 1000),
  };
}

export async function loadJobStateOrFail(em: Em, jobId: number, forUpdate = false): Promise<JobState> {
  const j = await loadJobState(em, jobId, forUpdate);
  if (!j) throw notFound(`job ${jobId} does not exist`);
  return j;
}
