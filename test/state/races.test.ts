/** Concurrency against the real service: unique keys and compare-and-set decide, never timing. */
import { buildParameterRow, parameterHash } from '@pdr/domain';
import { one } from '@pdr/persistence';
import mysql from 'mysql2/promise';
import { gridRequest, Harness, points, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

async function count(sql: string, params: (string | number)[] = []): Promise<number> {
  return Number((await one<{ n: number }>(h.em(), sql, params))!.n);
}

it('50 concurrent gridUpsert of one grid → one model name, one user, one grid row, exactly one created:true', async () => {
  const replies = await Promise.all(Array.from({ length: 50 }, () => h.call('gridUpsert', gridRequest('race'))));
  expect(new Set(replies.map((r) => r.gridId)).size).toBe(1);
  expect(replies.filter((r) => r.created)).toHaveLength(1);
  expect(await count("SELECT COUNT(*) AS n FROM model_names WHERE model_name = 'race'")).toBe(1);
  expect(await count('SELECT COUNT(*) AS n FROM grids WHERE id = ?', [replies[0].gridId])).toBe(1);
  expect(await count("SELECT COUNT(*) AS n FROM users WHERE username = 'tester'")).toBe(1);
  expect(await count('SELECT COUNT(*) AS n FROM chemical_databases')).toBe(1);
  expect(await count('SELECT submit_count AS n FROM grids WHERE id = ?', [replies[0].gridId])).toBe(50);
});

it('50 concurrent jobClaim of one job → exactly one granted:true, one attempt row', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('claim-race'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  const replies = await Promise.all(
    Array.from({ length: 50 }, (_, i) => h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: `runner-${i}` })),
  );
  const granted = replies.filter((r) => r.granted);
  expect(granted).toHaveLength(1);
  expect(replies.filter((r) => !r.granted).every((r) => !r.granted && r.status === 'running')).toBe(true);
  expect(await count('SELECT COUNT(*) AS n FROM job_attempts WHERE job_id = ?', [jobId])).toBe(1);
  expect(await count('SELECT attempt AS n FROM pdr_model_jobs WHERE id = ?', [jobId])).toBe(1);
});

it('concurrent pointsUpsert of overlapping batches → one parameter row and one job per point', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('points-race'));
  const all = points(300, '80');
  const batches = [all.slice(0, 200), all.slice(100, 300), all, all.slice(50, 250)];
  const replies = await Promise.all(batches.map((b) => h.call('pointsUpsert', { v: 1, gridId, points: b })));
  const idOf = new Map<string, number>();
  replies.forEach((r, i) =>
    r.jobs.forEach(([jobId], k) => {
      const key = batches[i][k].join('_');
      if (idOf.has(key)) expect(idOf.get(key)).toBe(jobId);
      idOf.set(key, jobId);
    }),
  );
  expect(idOf.size).toBe(300);
  expect(await count('SELECT COUNT(*) AS n FROM pdr_model_jobs j JOIN model_names m ON m.id = j.model_name_id WHERE m.model_name = ?', ['points-race'])).toBe(300);
  expect(await count('SELECT COUNT(*) AS n FROM kosmatau_parameters p JOIN model_names m ON m.id = p.model_name_id WHERE m.model_name = ?', ['points-race'])).toBe(300);
  expect(await count('SELECT COUNT(*) AS n FROM grid_points WHERE grid_id = ?', [gridId])).toBe(300);
});

it.each([['commits', 'COMMIT'], ['is rolled back', 'ROLLBACK']])(
  'pointsUpsert whose insert waited for another transaction inserting the same point, which then %s, ends with the row',
  async (what, end) => {
    // The request's INSERT ... ON DUPLICATE KEY waits for another transaction's uncommitted row of the same
    // point; that one commits (the INSERT is a no-op) or rolls back (the INSERT inserts). Either way: one
    // parameter row, the job on it. (The rare lost rows under deadlocks are caught by the overlapping-
    // batches test above, not by this interleaving.)
    const model = `snapshot-race-${end.toLowerCase()}`;
    const { gridId } = await h.client.request('gridUpsert', gridRequest(model));
    const [point] = points(1, '90');
    const [metal, dens, mass, chi] = point;
    const g = gridRequest(model).physics;
    const hash = parameterHash(buildParameterRow({ point: { metal, dens, mass, chi }, alpha: g.alpha, rcore: g.rcore, chemistry: g.chemistry, nonDefault: g.nonDefault }));
    const modelNameId = await count('SELECT id AS n FROM model_names WHERE model_name = ?', [model]);
    const conn = await mysql.createConnection({ host: h.db.host, port: h.db.port, user: h.db.user, password: h.db.password, database: h.db.database });
    try {
      await conn.query('BEGIN');
      await conn.query('INSERT INTO kosmatau_parameters (model_name_id, parameter_hash) VALUES (?, ?)', [modelNameId, hash]);
      const reply = h.call('pointsUpsert', { v: 1, gridId, points: [point] });
      // wait until the request's INSERT (in this test's database) is blocked on the uncommitted row's lock
      let blocked = false;
      for (let i = 0; i < 250 && !blocked; i++) {
        const [rows] = await conn.query(
          "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND info LIKE 'INSERT INTO kosmatau_parameters%' AND state = 'Update' AND time_ms > 50",
          [h.db.database],
        );
        blocked = Number((rows as { n: number }[])[0].n) > 0;
        if (!blocked) await new Promise((r) => setTimeout(r, 20));
      }
      expect({ what, blocked }).toEqual({ what, blocked: true });
      await conn.query(end);
      const { jobs } = await reply;
      expect(jobs).toHaveLength(1);
      expect(await count('SELECT COUNT(*) AS n FROM kosmatau_parameters WHERE model_name_id = ? AND parameter_hash = ?', [modelNameId, hash])).toBe(1);
      expect(await count('SELECT kosmatau_parameters_id AS n FROM pdr_model_jobs WHERE id = ?', [jobs[0][0]])).toBe(
        await count('SELECT id AS n FROM kosmatau_parameters WHERE model_name_id = ? AND parameter_hash = ?', [modelNameId, hash]),
      );
    } finally {
      await conn.end();
    }
  },
);

it('a claim with a stale generation, or of a finished job, is refused with the reason', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('stale'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  const stale = await h.call('jobClaim', { v: 1, jobId, generation: 7, delivery: 1, runnerId: 'r' });
  expect(stale).toMatchObject({ granted: false, status: 'pending' });
  expect(!stale.granted && stale.reason).toMatch(/generation/);
  const claim = await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r' });
  expect(claim.granted).toBe(true);
  await h.client.request('jobFinish', {
    v: 1,
    jobId,
    attempt: 1,
    runnerId: 'r',
    status: 'problem',
    reason: 'pdr exited with 3',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    executionMs: 5,
    exitCodes: { pdr: 3, onion: {} },
    files: [],
  });
  const done = await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 2, runnerId: 'r2' });
  expect(done).toMatchObject({ granted: false, status: 'problem' });
  // a resubmission with retryFailed brings it back with a new generation
  const again = await h.call('pointsUpsert', { v: 1, gridId, points: points(1), retryFailed: true });
  expect(again.jobs).toEqual([[jobId, 'pending', 1, false]]);
  expect((await h.call('jobClaim', { v: 1, jobId, generation: 1, delivery: 1, runnerId: 'r3' })).granted).toBe(true);
});
