import { raw } from '@mikro-orm/core';
import type { JobStatus } from '@pdr/contracts';
import { flagsFor, STALE_RUNNING_SQL } from '@pdr/persistence';

/**
 * Entity data and filters of the job transitions that go through the forked EntityManager
 * (`em.nativeUpdate`, QueryBuilder): the same rules as the SQL fragments of libs/persistence/src/status.ts
 * (setStatusSql, STALE_RUNNING_SQL), written as entity data. Fresh raw fragments per call: each is used once.
 */

/** The status with pdr_run's `pending`/`active` flags in step (flagsFor), as setStatusSql writes them. */
export function statusData(status: JobStatus): { status: JobStatus; pending: boolean; active: boolean } {
  const f = flagsFor(status);
  return { status, pending: f.pending === 1, active: f.active === 1 };
}

/** `version = version + 1`: every status change bumps the job's version. */
export function bumpVersion(): { version: number } {
  return { version: raw<object, number>('version + 1') };
}

/** `NOW(3)` by the database clock (all job times are the database's), typed as the time column it is assigned to. */
export function dbNow(): Date {
  return raw<object, Date>('NOW(3)');
}

/** Filter: the one liveness rule (STALE_RUNNING_SQL), a running job whose heartbeat is older than staleHeartbeatMs. */
export function staleRunning(staleHeartbeatMs: number): Record<string, unknown[]> {
  return { [raw(STALE_RUNNING_SQL, [staleHeartbeatMs * 1000])]: [] };
}
