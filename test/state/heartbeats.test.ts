/**
 * state.jobs.heartbeat: one request for all running attempts of a runner refreshes those that still own
 * their jobs and says, per attempt, whether it is alive and whether to kill it.
 */
import { one, run } from '@pdr/persistence';
import { gridRequest, Harness, points, useHarness } from './helpers';

jest.setTimeout(60_000);

let h: Harness;
useHarness((started) => (h = started));

it('refreshes the attempts that own their jobs; a lost, finished or killed one is told so', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('beats'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(4) });
  const ids = jobs.map((j) => j[0]);
  for (const jobId of ids) expect((await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' })).granted).toBe(true);
  const [running, done, killed, other] = ids;
  const now = new Date().toISOString();
  await h.call('jobFinish', { v: 1, jobId: done, attempt: 1, runnerId: 'r1', status: 'finished', reason: null, startedAt: now, finishedAt: now, executionMs: 1, exitCodes: { pdr: 0, onion: {} }, files: [] });
  await run(h.em(), 'UPDATE pdr_model_jobs SET cancel_requested = 1, cancel_kill = 1 WHERE id = ?', [killed]);
  await run(h.em(), 'UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) - INTERVAL 1 HOUR WHERE id IN (?, ?)', [running, other]);
  const reply = await h.call('jobsHeartbeat', {
    v: 1,
    runnerId: 'r1',
    attempts: [
      { jobId: running, attempt: 1 },
      { jobId: done, attempt: 1 },
      { jobId: killed, attempt: 1 },
      { jobId: other, attempt: 2 }, // an attempt that no longer owns its job
    ],
  });
  expect(reply.jobs).toEqual([
    { jobId: running, attempt: 1, alive: true, cancel: false },
    { jobId: done, attempt: 1, alive: false, cancel: false },
    { jobId: killed, attempt: 1, alive: true, cancel: true },
    { jobId: other, attempt: 2, alive: false, cancel: false },
  ]);
  const age = async (id: number) => Number((await one<{ s: number }>(h.em(), 'SELECT TIMESTAMPDIFF(SECOND, heartbeat_at, NOW(3)) AS s FROM pdr_model_jobs WHERE id = ?', [id]))!.s);
  expect(await age(running)).toBeLessThan(60); // refreshed
  expect(await age(other)).toBeGreaterThanOrEqual(3599); // not its attempt: untouched
});

it('refuses an empty list and more than MAX_HEARTBEATS_PER_REQUEST attempts (BAD_REQUEST)', async () => {
  expect(await h.raw('jobsHeartbeat', { v: 1, runnerId: 'r', attempts: [] })).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  const many = Array.from({ length: 1001 }, (_, i) => ({ jobId: i + 1, attempt: 1 }));
  expect(await h.raw('jobsHeartbeat', { v: 1, runnerId: 'r', attempts: many })).toMatchObject({ error: { code: 'BAD_REQUEST' } });
});
