/**
 * grid_counts, kept by triggers (Migration20261201000000GridCounts), equals a recount of the jobs and
 * memberships after every kind of change: inserts, multi-row status changes, a job moving to another
 * grid or to none, NULL statuses, deletes of jobs with memberships, and many single-job transitions
 * from concurrent connections (lock order, deadlock victims run again). Real MariaDB.
 */
import { all, GRID_COUNT_TRIGGERS, migrateUp, MIGRATIONS_TABLE, one, run, transaction } from './index';
import { useUseCaseDb } from '../../../test/support/use-case-db';
import { gridCountsDrift } from '../../../test/support/grid-counts';

jest.setTimeout(120_000);

const t = useUseCaseDb();
const drift = () => gridCountsDrift((sql) => all(t.em(), sql));
const STATUSES = ['pending', 'queued', 'running', 'finished', 'failed', 'cancelled'] as const;

it('follow inserts, memberships, multi-row and single-row changes, moves between grids and deletes', async () => {
  const a = await t.grid(150);
  const b = await t.grid(80, 'queued');
  const c = await t.grid(20, 'finished');
  expect(await drift()).toEqual([]);
  // the counts are spread over shards, and a count is exact
  const spread = await one<{ shards: number; n: number }>(t.em(), `SELECT COUNT(DISTINCT shard) AS shards, SUM(n) AS n FROM grid_counts WHERE grid_id = ? AND what = 'pending'`, [a.gridId]);
  expect([Number(spread!.shards), Number(spread!.n)]).toEqual([64, 150]);

  // b shares 30 of a's points (memberships only: a still owns them)
  await run(t.em(), `INSERT INTO grid_points (grid_id, job_id) VALUES ${a.jobIds.slice(0, 30).map((id) => `(${b.gridId}, ${id})`).join(', ')} ON DUPLICATE KEY UPDATE grid_id = grid_id`);
  // again: duplicates change nothing
  await run(t.em(), `INSERT INTO grid_points (grid_id, job_id) VALUES ${a.jobIds.slice(0, 30).map((id) => `(${b.gridId}, ${id})`).join(', ')} ON DUPLICATE KEY UPDATE grid_id = grid_id`);
  expect(await drift()).toEqual([]);

  // multi-row changes with different old statuses, times, a NULL status, jobs moving grids or leaving all
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'running', time_of_start = NOW(3) WHERE id % 3 = 0`);
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'finished', time_of_finish = NOW(3) WHERE id % 5 = 0`);
  await run(t.em(), `UPDATE pdr_model_jobs SET status = NULL WHERE id % 17 = 0`);
  await run(t.em(), `UPDATE pdr_model_jobs SET grid_id = ? WHERE id IN (${a.jobIds.slice(0, 20).join(', ')})`, [b.gridId]);
  await run(t.em(), `UPDATE pdr_model_jobs SET grid_id = NULL, status = 'failed' WHERE id IN (${c.jobIds.slice(0, 5).join(', ')})`);
  await run(t.em(), `UPDATE pdr_model_jobs SET grid_id = ?, status = 'pending' WHERE id IN (${c.jobIds.slice(0, 3).join(', ')})`, [c.gridId]);
  await run(t.em(), `UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) WHERE status = 'running'`); // no count changes
  expect(await drift()).toEqual([]);

  // deletes: a job with memberships in two grids, and memberships alone
  await run(t.em(), `DELETE FROM pdr_model_jobs WHERE id IN (${[...a.jobIds.slice(25, 35), ...c.jobIds.slice(10, 12)].join(', ')})`);
  await run(t.em(), `DELETE FROM grid_points WHERE grid_id = ? AND job_id IN (${a.jobIds.slice(0, 10).join(', ')})`, [b.gridId]);
  expect(await drift()).toEqual([]);

  // many single-job transitions from 8 connections at once, in both directions of the lock order
  const ids = [...a.jobIds.slice(40), ...b.jobIds];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const work = Array.from({ length: 400 }, () => ({ id: ids[rnd(ids.length)], status: STATUSES[rnd(STATUSES.length)], other: ids[rnd(ids.length)] }));
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < work.length; i += 8) {
        const { id, status, other } = work[i];
        await transaction(t.em(), async (tem) => {
          await run(tem, `UPDATE pdr_model_jobs SET status = ?, time_of_finish = IF(? = 'finished', NOW(3), time_of_finish) WHERE id = ?`, [status, status, id]);
          await run(tem, `UPDATE pdr_model_jobs SET status = 'queued' WHERE id = ?`, [other]);
        });
      }
    }),
  );
  expect(await drift()).toEqual([]);
});

it('gives the earliest start and the latest finish seen, and a grid deleted takes its counts along', async () => {
  const g = await t.grid(4);
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'finished', time_of_start = '2026-01-01 00:00:01.000', time_of_finish = '2026-01-01 00:00:09.000' WHERE id = ?`, [g.jobIds[0]]);
  await run(t.em(), `UPDATE pdr_model_jobs SET time_of_start = '2026-01-01 00:00:00.500' WHERE id = ?`, [g.jobIds[0]]); // times alone
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'running', time_of_start = '2026-01-01 00:00:05.000' WHERE id = ?`, [g.jobIds[1]]);
  const times = await one<{ first: string; last: string }>(
    t.em(),
    `SELECT DATE_FORMAT(MIN(first_start), '%T.%f') AS first, DATE_FORMAT(MAX(last_finish), '%T.%f') AS last FROM grid_counts WHERE grid_id = ?`,
    [g.gridId],
  );
  expect(times).toEqual({ first: '00:00:00.500000', last: '00:00:09.000000' });
  await run(t.em(), `DELETE FROM pdr_model_jobs WHERE grid_id = ?`, [g.gridId]);
  await run(t.em(), `DELETE FROM grids WHERE id = ?`, [g.gridId]);
  expect(await all(t.em(), `SELECT * FROM grid_counts WHERE grid_id = ?`, [g.gridId])).toEqual([]);
  expect(await drift()).toEqual([]);
});

it('triggers missing at start (a dump restored without them) are created again and every count recounted', async () => {
  const g = await t.grid(10);
  await run(t.em(), 'DROP TRIGGER grid_counts_job_update');
  await run(t.em(), 'DROP TRIGGER grid_counts_member_insert');
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'queued' WHERE grid_id = ?`, [g.gridId]); // not counted: no trigger
  expect((await drift()).length).toBeGreaterThan(0);
  const warnings: string[] = [];
  expect(await migrateUp(t.orm, { warn: (m) => warnings.push(m) })).toEqual([]);
  expect(warnings).toEqual([expect.stringMatching(/^grid counts: trigger\(s\) grid_counts_job_update, grid_counts_member_insert were missing .*recounted$/)]);
  expect(await drift()).toEqual([]);
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'running' WHERE grid_id = ?`, [g.gridId]); // counted again
  expect(await drift()).toEqual([]);
  expect(await migrateUp(t.orm, { warn: (m) => warnings.push(m) })).toEqual([]);
  expect(warnings).toHaveLength(1); // nothing missing the second time
});

it('the migration runs again whole when it stopped half-way (table made, triggers refused, not recorded)', async () => {
  const g = await t.grid(5);
  for (const trig of GRID_COUNT_TRIGGERS) await run(t.em(), `DROP TRIGGER ${trig}`);
  await run(t.em(), `DELETE FROM ${MIGRATIONS_TABLE} WHERE name = 'Migration20261201000000GridCounts'`);
  await run(t.em(), `UPDATE pdr_model_jobs SET status = 'failed' WHERE grid_id = ?`, [g.gridId]); // uncounted meanwhile
  expect(await migrateUp(t.orm)).toEqual(['Migration20261201000000GridCounts']);
  expect(await drift()).toEqual([]);
  const triggers = await all<{ n: string }>(t.em(), 'SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1');
  expect(triggers.map((r) => r.n)).toEqual([...GRID_COUNT_TRIGGERS].sort());
});
