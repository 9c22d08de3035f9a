/**
 * state.jobs.estimate against MariaDB: a grid's expected job duration is its timeouts (PDR + onion per
 * species) until enough jobs finished, then the longest measured one with the margin; without grid ids
 * it answers for the grids with work waiting, and only those.
 */
import { ESTIMATE } from '@pdr/contracts';
import { gridRequest, Harness, points, sha, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

async function finish(jobId: number, executionMs: number) {
  await h.call('markQueued', { v: 1, jobIds: [jobId] });
  const claim = await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r' });
  expect(claim.granted).toBe(true);
  await h.call('jobFinish', {
    v: 1,
    jobId,
    attempt: 1,
    runnerId: 'r',
    status: 'finished',
    reason: null,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    executionMs,
    exitCodes: { pdr: 0, onion: {} },
    files: [],
    executables: [],
  });
}

it('timeouts first, then the longest measured job with the margin; the grids with work waiting', async () => {
  const { gridId } = await h.call('gridUpsert', gridRequest('estimate', { requestHash: sha('estimate'), pointCount: 6, run: { ...gridRequest('x').run, timeouts: { pdrMs: 50_000, onionMs: 7_000 } } }));
  const jobs = (await h.call('pointsUpsert', { v: 1, gridId, points: points(6) })).jobs.map((j) => j[0]);
  const { gridId: idle } = await h.call('gridUpsert', gridRequest('estimate-idle', { requestHash: sha('idle'), pointCount: 1 }));
  const [idleJob] = (await h.call('pointsUpsert', { v: 1, gridId: idle, points: points(1, '200') })).jobs.map((j) => j[0]);
  await finish(idleJob, 10);

  // two onion species: 50 s + 2 × 7 s
  expect(await h.call('jobsEstimate', { v: 1, gridIds: [gridId] })).toEqual({ grids: [{ gridId, expectedMs: 64_000, basis: 'timeouts', finished: 0 }] });
  for (const [i, ms] of [1_000, 4_000].entries()) await finish(jobs[i], ms);
  expect((await h.call('jobsEstimate', { v: 1, gridIds: [gridId] })).grids[0]).toMatchObject({ basis: 'timeouts', finished: 2 });
  await finish(jobs[2], 2_000);
  expect(ESTIMATE.MIN_MEASURED_JOBS).toBe(3);
  expect((await h.call('jobsEstimate', { v: 1, gridIds: [gridId] })).grids).toEqual([{ gridId, expectedMs: 4_000 * ESTIMATE.MEASURED_MARGIN, basis: 'measured', finished: 3 }]);
  // without ids: the grid with jobs waiting, not the one that is done
  expect((await h.call('jobsEstimate', { v: 1, gridIds: null })).grids.map((g) => g.gridId)).toEqual([gridId]);
});
