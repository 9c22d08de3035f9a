/**
 * gridStatus counts a grid's members, also when two grids of one model share points (a job belongs to
 * the grid that created it or last re-queued it; the other grid still counts it through grid_points).
 */
import { run } from '@pdr/persistence';
import { gridRequest, Harness, points, sha, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

async function status(gridId: number) {
  return (await h.call('gridStatus', { v: 1, selector: { gridId } })).grid;
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

it('counts shared points in both grids, before and after one grid takes a shared job over', async () => {
  const [p1, p2, p3, p4] = points(4);
  const a = (await h.call('gridUpsert', gridRequest('shared', { requestHash: sha('grid A'), pointCount: 3 }))).gridId;
  const b = (await h.call('gridUpsert', gridRequest('shared', { requestHash: sha('grid B'), pointCount: 3 }))).gridId;
  expect(a).not.toBe(b);

  const jobsA = (await h.call('pointsUpsert', { v: 1, gridId: a, points: [p1, p2, p3] })).jobs.map((j) => j[0]);
  const jobsB = (await h.call('pointsUpsert', { v: 1, gridId: b, points: [p2, p3, p4] })).jobs.map((j) => j[0]);
  expect(jobsB.slice(0, 2)).toEqual(jobsA.slice(1)); // p2, p3 are the same jobs
  const [j1, j2, j3] = jobsA;
  const j4 = jobsB[2];

  // A owns all its members (index path); B owns only p4 (membership join)
  expect([(await status(a)).total, nonZero((await status(a)).counts)]).toEqual([3, { pending: 3 }]);
  expect([(await status(b)).total, nonZero((await status(b)).counts)]).toEqual([3, { pending: 3 }]);

  await h.call('markQueued', { v: 1, jobIds: [j1, j2, j3, j4] });
  await run(h.em(), `UPDATE pdr_model_jobs SET status = 'finished', time_of_start = '2026-01-02 03:04:05.000', time_of_finish = '2026-01-02 04:05:06.000' WHERE id = ?`, [j2]);
  await run(h.em(), `UPDATE pdr_model_jobs SET status = 'failed' WHERE id = ?`, [j3]);
  for (const g of [a, b]) {
    const s = await status(g);
    expect(s.total).toBe(3);
    expect(s.firstStartedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(s.lastFinishedAt).toBe('2026-01-02T04:05:06.000Z');
  }
  expect(nonZero((await status(a)).counts)).toEqual({ queued: 1, finished: 1, failed: 1 });
  expect(nonZero((await status(b)).counts)).toEqual({ queued: 1, finished: 1, failed: 1 });

  // B retries its failed points: p3's job moves to B; A no longer owns it and must still count it
  const retried = await h.call('pointsUpsert', { v: 1, gridId: b, points: [p2, p3, p4], retryFailed: true });
  expect(retried.jobs.find((j) => j[0] === j3)?.[1]).toBe('pending');
  expect(nonZero((await status(a)).counts)).toEqual({ queued: 1, finished: 1, pending: 1 });
  expect(nonZero((await status(b)).counts)).toEqual({ queued: 1, finished: 1, pending: 1 });
  const listed = (await h.call('gridList', { v: 1, limit: 10 })).grids;
  expect(listed.map((g) => [g.gridId, g.total, g.counts.pending])).toEqual(
    expect.arrayContaining([
      [a, 3, 1],
      [b, 3, 1],
    ]),
  );
});
