/**
 * The triggers that keep grid_counts (entities/grid.ts, GridCount) and the statements that count it
 * afresh: the one description of both, run by Migration20261201000000GridCounts on a new database and by
 * `pdr db upgrade` on a pdr_run one. A change here needs a migration that runs gridCountTriggers() and
 * reseedGridCounts() again (CREATE OR REPLACE: re-running them is safe).
 *
 * Why triggers and not the use cases: a dozen statements change job statuses or owners (claim, finish,
 * release, abandon, cancel, retry, dispatch, reconciler, points upsert, db upgrade), several of them many
 * rows at once with different old statuses; a trigger sees every one, pdr_run or a user's own SQL as well,
 * in the same transaction as the change.
 * - Shards: a count is 64 rows (`shard` = job id mod 64); a job's rows always have the same shard, so its
 *   decrement meets its increment. Claims and finishes of one grid then rarely wait for each other's lock.
 * - Lock order: a status change touches two rows of one shard; the trigger takes them in (grid, what)
 *   order whatever the direction, so two single-job transitions never deadlock on them. Statements that
 *   change many jobs at once (cancel, mark-queued) may still deadlock with another such statement: every
 *   use case runs in transaction(), which runs a deadlock victim again.
 * - MariaDB fires no trigger for a foreign-key cascade: a job deleted directly takes its grid_points rows
 *   by cascade, so the job's BEFORE DELETE trigger subtracts its memberships; a grid deleted takes its
 *   grid_counts rows by cascade.
 * - Needs the TRIGGER privilege (and, with binary logging on and no SUPER privilege,
 *   log_bin_trust_function_creators=1): MariaDB's own error names what is missing.
 */
import { MEMBER_COUNT } from './entities/grid';
import type { Em } from './orm';
import { all, run } from './sql';

export const GRID_COUNT_TRIGGERS = ['grid_counts_job_insert', 'grid_counts_job_update', 'grid_counts_job_delete', 'grid_counts_member_insert', 'grid_counts_member_delete'] as const;

const SHARDS = 64;
const MEMBER = `'${MEMBER_COUNT}'`;
const SHARD = (r: 'NEW' | 'OLD', id = 'id') => `${r}.${id} % ${SHARDS}`;
const WHAT = (r: 'NEW' | 'OLD') => `COALESCE(${r}.status, '')`;
/** Earliest / latest of the stored value and the incoming one, either of which may be NULL. */
const EARLIEST = (v: string) => `COALESCE(LEAST(first_start, ${v}), first_start, ${v})`;
const LATEST = (v: string) => `COALESCE(GREATEST(last_finish, ${v}), last_finish, ${v})`;

const addJob = (r: 'NEW' | 'OLD') =>
  `INSERT INTO grid_counts (grid_id, what, shard, n, first_start, last_finish) VALUES (${r}.grid_id, ${WHAT(r)}, ${SHARD(r)}, 1, ${r}.time_of_start, ${r}.time_of_finish)
      ON DUPLICATE KEY UPDATE n = n + 1, first_start = ${EARLIEST('VALUES(first_start)')}, last_finish = ${LATEST('VALUES(last_finish)')}`;
const subtractJob = (r: 'NEW' | 'OLD') => `UPDATE grid_counts SET n = n - 1 WHERE grid_id = ${r}.grid_id AND what = ${WHAT(r)} AND shard = ${SHARD(r)}`;

/** CREATE OR REPLACE TRIGGER statements, one per element (each a single statement for the driver). */
export function gridCountTriggers(): string[] {
  return [
    `CREATE OR REPLACE TRIGGER grid_counts_job_insert AFTER INSERT ON pdr_model_jobs FOR EACH ROW
  IF NEW.grid_id IS NOT NULL THEN
    ${addJob('NEW')};
  END IF`,
    // heartbeats and other columns: two comparisons, nothing written
    `CREATE OR REPLACE TRIGGER grid_counts_job_update AFTER UPDATE ON pdr_model_jobs FOR EACH ROW
BEGIN
  IF NOT (OLD.grid_id <=> NEW.grid_id AND OLD.status <=> NEW.status) THEN
    IF NEW.grid_id IS NULL OR (OLD.grid_id IS NOT NULL AND (OLD.grid_id, ${WHAT('OLD')}) < (NEW.grid_id, ${WHAT('NEW')})) THEN
      IF OLD.grid_id IS NOT NULL THEN ${subtractJob('OLD')}; END IF;
      IF NEW.grid_id IS NOT NULL THEN ${addJob('NEW')}; END IF;
    ELSE
      ${addJob('NEW')};
      IF OLD.grid_id IS NOT NULL THEN ${subtractJob('OLD')}; END IF;
    END IF;
  ELSEIF NEW.grid_id IS NOT NULL AND NOT (OLD.time_of_start <=> NEW.time_of_start AND OLD.time_of_finish <=> NEW.time_of_finish) THEN
    UPDATE grid_counts SET first_start = ${EARLIEST('NEW.time_of_start')}, last_finish = ${LATEST('NEW.time_of_finish')}
      WHERE grid_id = NEW.grid_id AND what = ${WHAT('NEW')} AND shard = ${SHARD('NEW')};
  END IF;
END`,
    `CREATE OR REPLACE TRIGGER grid_counts_job_delete BEFORE DELETE ON pdr_model_jobs FOR EACH ROW
BEGIN
  IF OLD.grid_id IS NOT NULL THEN ${subtractJob('OLD')}; END IF;
  UPDATE grid_counts c JOIN grid_points gp ON gp.grid_id = c.grid_id SET c.n = c.n - 1
    WHERE gp.job_id = OLD.id AND c.what = ${MEMBER} AND c.shard = ${SHARD('OLD')};
END`,
    `CREATE OR REPLACE TRIGGER grid_counts_member_insert AFTER INSERT ON grid_points FOR EACH ROW
  INSERT INTO grid_counts (grid_id, what, shard, n) VALUES (NEW.grid_id, ${MEMBER}, ${SHARD('NEW', 'job_id')}, 1) ON DUPLICATE KEY UPDATE n = n + 1`,
    `CREATE OR REPLACE TRIGGER grid_counts_member_delete AFTER DELETE ON grid_points FOR EACH ROW
  UPDATE grid_counts SET n = n - 1 WHERE grid_id = OLD.grid_id AND what = ${MEMBER} AND shard = ${SHARD('OLD', 'job_id')}`,
  ];
}

/**
 * grid_counts counted afresh from the tables (migrations, upgrade: with the services stopped). Each recount
 * row overwrites the kept one, so a trigger that fired between the DELETE and the INSERT (a state instance
 * still running) cannot make the recount fail on a duplicate key.
 */
export function reseedGridCounts(): string[] {
  const overwrite = 'ON DUPLICATE KEY UPDATE n = VALUES(n), first_start = VALUES(first_start), last_finish = VALUES(last_finish)';
  return [
    'DELETE FROM grid_counts',
    `INSERT INTO grid_counts (grid_id, what, shard, n, first_start, last_finish)
  SELECT grid_id, COALESCE(status, ''), id % ${SHARDS}, COUNT(*), MIN(time_of_start), MAX(time_of_finish) FROM pdr_model_jobs WHERE grid_id IS NOT NULL GROUP BY 1, 2, 3
  ${overwrite}`,
    `INSERT INTO grid_counts (grid_id, what, shard, n, first_start, last_finish) SELECT grid_id, ${MEMBER}, job_id % ${SHARDS}, COUNT(*), NULL, NULL FROM grid_points GROUP BY 1, 2, 3
  ${overwrite}`,
  ];
}

/**
 * The triggers that are missing from the current database (a dump restored with --skip-triggers, one
 * dropped by hand): created again and the counts recounted, so gridStatus never reads counts nobody keeps.
 * Returns the names that were missing ([] as a rule). Fails with MariaDB's own error when they cannot be
 * created (no TRIGGER privilege).
 */
export async function restoreGridCountTriggers(em: Em): Promise<string[]> {
  const present = new Set(
    (await all<{ n: string }>(em, `SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`)).map((r) => r.n),
  );
  const missing = GRID_COUNT_TRIGGERS.filter((t) => !present.has(t));
  if (!missing.length) return [];
  const tables = await all<{ n: string }>(em, `SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'grid_counts'`);
  if (!tables.length) return []; // not migrated that far yet: the migration creates them
  for (const sql of [...gridCountTriggers(), ...reseedGridCounts()]) await run(em, sql);
  return missing;
}
