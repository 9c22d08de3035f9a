/**
 * A runner that asks again for the claim it holds (its first answer lost: a state instance killed after
 * the commit, or an answer that came after the runner's request timeout) gets the same attempt again;
 * anyone else, another delivery, or a finished attempt is still refused.
 */
import { one, run } from '@pdr/persistence';
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

it('a claim whose reply cannot be built (an unusable species name in the row) is rolled back: the job stays queued, no attempt', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('claim-unbuildable'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  await run(h.em(), `UPDATE pdr_model_jobs SET onion_species = 'bad/name', status = 'queued' WHERE id = ?`, [jobId]);
  const reply = (await h.raw('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' })) as { error?: { code: string } };
  expect(reply.error?.code).toBe('INTERNAL');
  const job = await one<{ status: string; attempt: number; runner_id: string | null }>(h.em(), 'SELECT status, attempt, runner_id FROM pdr_model_jobs WHERE id = ?', [jobId]);
  expect(job).toEqual({ status: 'queued', attempt: 0, runner_id: null });
  const attempts = await one<{ n: number }>(h.em(), 'SELECT COUNT(*) AS n FROM job_attempts WHERE job_id = ?', [jobId]);
  expect(Number(attempts!.n)).toBe(0);
});
