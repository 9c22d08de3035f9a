/**
 * Progress events of claim and finish come from the rows those use cases read in their own transaction
 * (no query after the commit): one event per grid the job belongs to, with the committed status,
 * attempt, name, time and execution time.
 */
import { names, progressEvent, ProgressEvent } from '@pdr/contracts';
import { decodeJson } from '@pdr/messaging';
import { gridRequest, Harness, points, sha, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error('timed out waiting for progress events');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('a job in two grids: claim and finish each publish one event per grid, as committed', async () => {
  const events: ProgressEvent[] = [];
  const sub = h.nc.subscribe(names(h.ns).progress('*'), { callback: (_e, m) => events.push(progressEvent.parse(decodeJson(m.data))) });
  try {
    const a = await h.client.request('gridUpsert', gridRequest('progress-two', { requestHash: sha('grid a') }));
    const b = await h.client.request('gridUpsert', gridRequest('progress-two', { requestHash: sha('grid b') }));
    expect(a.gridId).not.toBe(b.gridId);
    const pa = await h.client.request('pointsUpsert', { v: 1, gridId: a.gridId, points: points(1) });
    const pb = await h.client.request('pointsUpsert', { v: 1, gridId: b.gridId, points: points(1) });
    const jobId = pa.jobs[0][0];
    expect(pb.jobs[0][0]).toBe(jobId); // the same point: one job, member of both grids

    const claim = await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' });
    if (!claim.granted) throw new Error(`not granted: ${claim.reason}`);
    await waitFor(() => events.filter((e) => e.status === 'running').length >= 2);
    const running = events.filter((e) => e.status === 'running');
    expect(new Set(running.map((e) => e.gridId))).toEqual(new Set([a.gridId, b.gridId]));
    expect(running).toHaveLength(2);
    for (const e of running) expect(e).toMatchObject({ jobId, jobName: claim.job.jobName, attempt: 1, reason: null });

    const fin = await h.client.request('jobFinish', {
      v: 1,
      jobId,
      attempt: 1,
      runnerId: 'r1',
      status: 'problem',
      reason: 'pdr exited 3',
      startedAt: '2025-03-01T10:00:00.000Z',
      finishedAt: '2025-03-01T10:00:02.500Z',
      executionMs: 2500,
      exitCodes: { pdr: 3, onion: {} },
      files: [],
      executables: [],
      steps: [],
    });
    expect(fin).toEqual({ applied: true, status: 'problem' });
    await waitFor(() => events.filter((e) => e.status === 'problem').length >= 2);
    const done = events.filter((e) => e.status === 'problem');
    expect(new Set(done.map((e) => e.gridId))).toEqual(new Set([a.gridId, b.gridId]));
    expect(done).toHaveLength(2);
    for (const e of done) expect(e).toMatchObject({ jobId, attempt: 1, reason: 'pdr exited 3', executionMs: 2500 });

    // a refused claim and a repeated finish change nothing: no events
    const before = events.length;
    expect((await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 2, runnerId: 'r2' })).granted).toBe(false);
    expect(await h.client.request('jobFinish', { ...{ v: 1 as const, jobId, attempt: 1, runnerId: 'r1' }, status: 'problem', reason: 'pdr exited 3', startedAt: '2025-03-01T10:00:00.000Z', finishedAt: '2025-03-01T10:00:02.500Z', executionMs: 2500, exitCodes: { pdr: 3, onion: {} }, files: [], executables: [], steps: [] })).toEqual({ applied: false, status: 'problem' });
    await h.nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(events.length).toBe(before);
  } finally {
    sub.unsubscribe();
  }
});
