/**
 * A runner that asks again for the claim it holds (its first answer lost: a state instance killed after
 * the commit, or an answer that came after the runner's request timeout) gets the same attempt again;
 * anyone else, another delivery, or a finished attempt is still refused.
 */
import { one } from '@pdr/persistence';
import { gridRequest, Harness, points, useHarness } from './helpers';

jest.setTimeout(60_000);

let h: Harness;
useHarness((started) => (h = started));

it('the same claim again (runner, generation, delivery) → the same attempt; no one else, no other delivery', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('claim-again'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  const first = await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' });
  expect(first).toMatchObject({ granted: true, job: { jobId, attempt: 1 } });
  const again = await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' });
  expect(again).toEqual(first);
  expect(await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r2' })).toMatchObject({ granted: false, status: 'running' });
  expect(await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 2, runnerId: 'r1' })).toMatchObject({ granted: false, status: 'running' });
  const attempts = await one<{ n: number; a: number }>(h.em(), 'SELECT COUNT(*) AS n, MAX(j.attempt) AS a FROM job_attempts t JOIN pdr_model_jobs j ON j.id = t.job_id WHERE t.job_id = ?', [jobId]);
  expect({ n: Number(attempts!.n), a: Number(attempts!.a) }).toEqual({ n: 1, a: 1 });

  const now = new Date().toISOString();
  const fin = await h.call('jobFinish', { v: 1, jobId, attempt: 1, runnerId: 'r1', status: 'finished', reason: null, startedAt: now, finishedAt: now, executionMs: 1, exitCodes: { pdr: 0, onion: {} }, files: [] });
  expect(fin).toEqual({ applied: true, status: 'finished' });
  expect(await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' })).toMatchObject({ granted: false, status: 'finished' });
});
