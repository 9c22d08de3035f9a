/**
 * Steps that travel with jobFinish: recorded with an applied outcome; for an attempt that lost the job to
 * a later one they are kept too, each once, also when the runner repeats its report.
 */
import { all, run } from '@pdr/persistence';
import { gridRequest, Harness, points, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

const finish = (jobId: number, attempt: number, runnerId: string, steps: { step: string; at: string }[]) => ({
  v: 1 as const,
  jobId,
  attempt,
  runnerId,
  status: 'finished' as const,
  reason: null,
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:00:09Z',
  executionMs: 9000,
  exitCodes: { pdr: 0, onion: {} },
  files: [],
  executables: [],
  steps: steps.map((s) => ({ ...s, detail: {} })),
});

/** A job of a new grid claimed by r1 (attempt 1), which goes silent; r2 reclaims it (attempt 2). */
async function reclaimedJob(name: string): Promise<number> {
  const { gridId } = await h.call('gridUpsert', gridRequest(name));
  const [[jobId]] = (await h.call('pointsUpsert', { v: 1, gridId, points: points(1) })).jobs;
  expect((await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r1' })).granted).toBe(true);
  await run(h.em(), 'UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) - INTERVAL 1 HOUR WHERE id = ?', [jobId]);
  expect((await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 2, runnerId: 'r2' })).granted).toBe(true);
  return jobId;
}

it("a lost attempt's steps are kept once; the winning attempt's with its outcome", async () => {
  const jobId = await reclaimedJob('finish-steps');
  // the reclaim closed attempt 1 (never overwritten) and opened attempt 2, in the claim's one packet
  const attempts = await all<{ attempt: number; runner_id: string; delivery: number; status: string; reason: string | null; closed: number }>(
    h.em(),
    'SELECT attempt, runner_id, delivery, status, reason, finished_at IS NOT NULL AS closed FROM job_attempts WHERE job_id = ? ORDER BY attempt',
    [jobId],
  );
  expect(attempts.map((a) => [a.attempt, a.runner_id, a.delivery, a.status, a.reason, Number(a.closed)])).toEqual([
    [1, 'r1', 1, 'failed', 'heartbeat lost; reclaimed by attempt 2', 1],
    [2, 'r2', 2, 'running', null, 0],
  ]);

  const late = finish(jobId, 1, 'r1', [
    { step: 'setup-finished', at: '2026-01-01T00:00:01Z' },
    { step: 'pdr-started', at: '2026-01-01T00:00:02Z' },
  ]);
  expect(await h.call('jobFinish', late)).toEqual({ applied: false, status: 'running' });
  expect(await h.call('jobFinish', late)).toEqual({ applied: false, status: 'running' }); // repeated: nothing twice
  expect(await h.call('jobFinish', finish(jobId, 2, 'r2', [{ step: 'outputs-stored', at: '2026-01-01T00:00:08Z' }]))).toEqual({ applied: true, status: 'finished' });
  expect(await h.call('jobFinish', finish(jobId, 2, 'r2', [{ step: 'outputs-stored', at: '2026-01-01T00:00:08Z' }]))).toEqual({ applied: false, status: 'finished' });

  const rows = await all<{ attempt: number; step: string }>(h.em(), 'SELECT attempt, step FROM job_steps WHERE job_id = ? ORDER BY id', [jobId]);
  expect(rows.map((r) => [r.attempt, r.step])).toEqual([
    [1, 'setup-finished'],
    [1, 'pdr-started'],
    [2, 'outputs-stored'],
  ]);
});

it("a step report of a lost attempt is kept but is no heartbeat: only the owning attempt's refreshes it", async () => {
  const jobId = await reclaimedJob('step-heartbeat');
  const ageS = async () => Number((await all<{ s: number }>(h.em(), 'SELECT TIMESTAMPDIFF(SECOND, heartbeat_at, NOW(3)) AS s FROM pdr_model_jobs WHERE id = ?', [jobId]))[0].s);
  await run(h.em(), 'UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) - INTERVAL 1 HOUR WHERE id = ?', [jobId]);
  const step = (attempt: number, runnerId: string, at: string) => h.call('jobStep', { v: 1, jobId, attempt, runnerId, steps: [{ step: 'pdr-started', at }] });
  expect(await step(1, 'r1', '2026-01-01T00:00:01Z')).toEqual({ ok: true }); // history of the lost attempt
  expect(await ageS()).toBeGreaterThan(3000);
  expect(await step(2, 'r2', '2026-01-01T00:00:02Z')).toEqual({ ok: true });
  expect(await ageS()).toBeLessThan(60);
  // a finished job gets no heartbeat from a late step either
  expect(await h.call('jobFinish', finish(jobId, 2, 'r2', []))).toEqual({ applied: true, status: 'finished' });
  expect(await step(2, 'r2', '2026-01-01T00:00:03Z')).toEqual({ ok: true });
  const row = (await all<{ hb: string | null }>(h.em(), 'SELECT heartbeat_at AS hb FROM pdr_model_jobs WHERE id = ?', [jobId]))[0];
  expect(row.hb).toBeNull();
});
