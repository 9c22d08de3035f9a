/**
 * pdr_run's `pending`/`active` flags, kept in step with `status` for old queries (SPEC §4.11,
 * DESIGN "Job states"): pending/queued → pending=1, active=0; running → pending=0, active=1;
 * every terminal status → both 0 (pdr_run left `active=1` on failures, defect 19).
 */
import { raw } from '@mikro-orm/core';
import { JOB_STATUSES, JobStatus, TERMINAL_STATUSES } from '@pdr/contracts';

export interface PdrRunFlags {
  pending: 0 | 1;
  active: 0 | 1;
}

export function flagsFor(status: JobStatus): PdrRunFlags {
  switch (status) {
    case 'pending':
    case 'queued':
      return { pending: 1, active: 0 };
    case 'running':
      return { pending: 0, active: 1 };
    default:
      return { pending: 0, active: 0 };
  }
}

/** `status = 'x', pending = p, active = a` for an UPDATE of pdr_model_jobs. */
export function setStatusSql(status: JobStatus): string {
  if (!(JOB_STATUSES as readonly string[]).includes(status)) throw new Error(`unknown job status ${JSON.stringify(status)}`);
  const f = flagsFor(status);
  return `status = '${status}', pending = ${f.pending}, active = ${f.active}`;
}

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** A status read from the database, checked against the contract's list. */
export function asJobStatus(value: unknown): JobStatus {
  if (typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value)) return value as JobStatus;
  throw new Error(`unknown job status in the database: ${JSON.stringify(value)}`);
}

/** SQL list literal of statuses, e.g. `('pending','queued')` (values from the contract's enum only). */
export function statusList(statuses: readonly JobStatus[]): string {
  for (const s of statuses) if (!(JOB_STATUSES as readonly string[]).includes(s)) throw new Error(`unknown job status ${JSON.stringify(s)}`);
  return `(${statuses.map((s) => `'${s}'`).join(', ')})`;
}

/**
 * SET fragment closing a job that did not report its own times (cancelled, abandoned, failed by the
 * reconciler): pdr_run's time_of_start/time_of_finish and execution_time (Interval: DATETIME offset
 * from 1970-01-01) are always written (defect 19), with execution_ms beside them. MariaDB evaluates
 * single-table SET assignments left to right, so later ones see the new time_of_start/time_of_finish.
 */
export const CLOSE_TIMES_SQL =
  'time_of_start = COALESCE(time_of_start, NOW(3)), time_of_finish = NOW(3), ' +
  'execution_ms = TIMESTAMPDIFF(MICROSECOND, time_of_start, time_of_finish) DIV 1000, ' +
  "execution_time = TIMESTAMPADD(MICROSECOND, TIMESTAMPDIFF(MICROSECOND, time_of_start, time_of_finish), '1970-01-01 00:00:00')";

/**
 * The one liveness rule: a running job whose runner is presumed dead — its last heartbeat (or none at all)
 * older than the stale window. SQL condition on pdr_model_jobs with one parameter, the window in
 * microseconds (staleHeartbeatMs × 1000). Claim (reclaim), abandon and the reconciler all use it.
 */
export const STALE_RUNNING_SQL = `(status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < NOW(3) - INTERVAL ? MICROSECOND))`;

/**
 * The status columns of a transition as entity data (`em.nativeUpdate`, QueryBuilder `update`): the
 * status with pdr_run's flags in step, as setStatusSql writes them.
 */
export function statusFields(status: JobStatus): { status: JobStatus; pending: boolean; active: boolean } {
  if (!(JOB_STATUSES as readonly string[]).includes(status)) throw new Error(`unknown job status ${JSON.stringify(status)}`);
  const f = flagsFor(status);
  return { status, pending: f.pending === 1, active: f.active === 1 };
}

/**
 * CLOSE_TIMES_SQL as entity update data, in the same order (MariaDB assigns left to right, so the
 * later columns see the new time_of_start/time_of_finish). Fresh fragments per call: each is used once.
 * (Typed as the columns' values: they are SQL the statement evaluates.)
 */
export function closeTimesFields(): { time_of_start: Date; time_of_finish: Date; execution_ms: number; execution_time: Date } {
  return {
    time_of_start: raw('COALESCE(time_of_start, NOW(3))'),
    time_of_finish: raw('NOW(3)'),
    execution_ms: raw('TIMESTAMPDIFF(MICROSECOND, time_of_start, time_of_finish) DIV 1000'),
    execution_time: raw("TIMESTAMPADD(MICROSECOND, TIMESTAMPDIFF(MICROSECOND, time_of_start, time_of_finish), '1970-01-01 00:00:00')"),
  };
}

/** `version = version + 1` as entity update data: every status change bumps the job's version. */
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
