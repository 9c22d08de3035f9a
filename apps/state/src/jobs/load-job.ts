import { LockMode, raw } from '@mikro-orm/core';
import { asJobStatus, Em, PdrModelJob } from '@pdr/persistence';
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
  heartbeat_at: string | Date | null;
  cancel_requested: number | boolean;
  cancel_kill: number | boolean;
  age_us: string | number | null;
}

/**
 * A job's bookkeeping columns (QueryBuilder on the forked EM, raw rows: no entity is hydrated into the
 * identity map), with the heartbeat's age by the database clock; `forUpdate` locks the row.
 */
export async function loadJobState(em: Em, jobId: number, forUpdate = false): Promise<JobState | undefined> {
  const qb = em
    .createQueryBuilder(PdrModelJob)
    .select(['id', 'status', 'attempt', 'generation', 'version', 'grid_id', 'runner_id', 'heartbeat_at', 'cancel_requested', 'cancel_kill', raw('TIMESTAMPDIFF(MICROSECOND, heartbeat_at, NOW(3)) AS age_us')])
    .where({ id: jobId });
  if (forUpdate) qb.setLockMode(LockMode.PESSIMISTIC_WRITE);
  const r = await qb.execute<Row | undefined>('get', false);
  if (!r) return undefined;
  return {
    id: r.id,
    status: asJobStatus(r.status),
    attempt: r.attempt,
    generation: r.generation,
    version: r.version,
    gridId: r.grid_id,
    runnerId: r.runner_id,
    heartbeatAt: r.heartbeat_at === null ? null : r.heartbeat_at instanceof Date ? r.heartbeat_at.toISOString() : r.heartbeat_at,
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
