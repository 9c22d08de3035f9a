/**
 * The reconciler re-queues running jobs whose heartbeat stopped (new generation, event published
 * again) and republishes pending jobs whose event was never confirmed; two state instances never act
 * on the same job. Sweeps are triggered by the test (reconcile: false), thresholds are short.
 */
import { jobEvent, jobMsgId, names } from '@pdr/contracts';
import { decodeJson } from '@pdr/messaging';
import { one } from '@pdr/persistence';
import type { JetStreamManager } from 'nats';
import { gridRequest, Harness, points, startHarness } from './helpers';

jest.setTimeout(120_000);

const STALE_MS = 300;
let h: Harness;
let jsm: JetStreamManager;

beforeAll(async () => {
  h = await startHarness({ timings: { staleHeartbeatMs: STALE_MS, stalePendingMs: STALE_MS, reconcileIntervalMs: 3_600_000 } });
  jsm = await h.nc.jetstreamManager();
});
afterAll(async () => {
  await h?.close();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The job events in the stream for a job, as [generation, msgId]. */
async function eventsOf(jobId: number): Promise<[number, string][]> {
  const n = names(h.ns);
  const info = await jsm.streams.info(n.jobStream);
  const out: [number, string][] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(n.jobStream, { seq }).catch(() => null);
    if (!m) continue;
    const ev = jobEvent.parse(decodeJson(m.data));
    if (ev.jobId === jobId) out.push([ev.generation, m.header.get('Nats-Msg-Id')]);
  }
  return out;
}

async function job(jobId: number) {
  return (await one<{ status: string; generation: number; attempt: number; pending: number; active: number }>(
    h.em(),
    'SELECT status, generation, attempt, pending, active FROM pdr_model_jobs WHERE id = ?',
    [jobId],
  ))!;
}

it('re-queues a running job whose heartbeat stopped: new generation, event published, old attempt lost', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('stale-running'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  await h.client.request('markQueued', { v: 1, jobIds: [jobId] });
  const claim = await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'dead-runner' });
  expect(claim.granted).toBe(true);

  expect(await h.state.reconciler.tick()).toEqual({ requeued: 0, cancelled: 0, republished: 0 }); // heartbeat still fresh
  await pause(STALE_MS * 2);
  expect(await h.state.reconciler.tick()).toEqual({ requeued: 1, cancelled: 0, republished: 0 });

  expect(await job(jobId)).toMatchObject({ status: 'queued', generation: 1, pending: 1, active: 0 });
  expect(await eventsOf(jobId)).toEqual([[1, jobMsgId(jobId, 1)]]);
  expect(await h.client.request('jobHeartbeat', { v: 1, jobId, attempt: 1, runnerId: 'dead-runner' })).toEqual({ alive: false, cancel: false });
  const late = await h.client.request('jobFinish', {
    v: 1,
    jobId,
    attempt: 1,
    runnerId: 'dead-runner',
    status: 'finished',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    executionMs: 1,
    exitCodes: { pdr: 0, onion: {} },
    files: [],
  });
  expect(late).toEqual({ applied: false, status: 'queued' });
  expect((await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 2, runnerId: 'r' })).granted).toBe(false);
  const again = await h.client.request('jobClaim', { v: 1, jobId, generation: 1, delivery: 1, runnerId: 'r' });
  expect(again.granted && again.job.attempt).toBe(2);
  const history = await h.client.request('jobGet', { v: 1, jobId });
  expect(history.attempts.map((a) => [a.attempt, a.status])).toEqual([
    [1, 'failed'],
    [2, 'running'],
  ]);
});

it('a running job whose runner died after a cancel request ends cancelled, not re-queued', async () => {
  const { gridId } = await h.client.request('gridUpsert', gridRequest('stale-cancelled'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r' });
  expect(await h.client.request('gridCancel', { v: 1, selector: { gridId }, kill: true })).toEqual({ gridId, cancelled: 0, runningFlagged: 1 });
  expect(await h.client.request('jobHeartbeat', { v: 1, jobId, attempt: 1, runnerId: 'r' })).toEqual({ alive: true, cancel: true });
  await pause(STALE_MS * 2);
  expect(await h.state.reconciler.tick()).toMatchObject({ cancelled: 1 });
  expect(await job(jobId)).toMatchObject({ status: 'cancelled', pending: 0, active: 0 });
});

it('republishes pending jobs nobody queued (same generation), and two instances never act twice', async () => {
  const other = await h.startAnother();
  const { gridId } = await h.client.request('gridUpsert', gridRequest('stale-pending'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(40, '70') });
  await pause(STALE_MS * 2);
  const [a, b] = await Promise.all([h.state.reconciler.tick(), other.reconciler.tick()]);
  expect(a!.republished + b!.republished).toBe(40);
  for (const [jobId] of jobs) {
    expect(await job(jobId)).toMatchObject({ status: 'queued', generation: 0 });
    expect(await eventsOf(jobId)).toEqual([[0, jobMsgId(jobId, 0)]]);
  }
  expect(await Promise.all([h.state.reconciler.tick(), other.reconciler.tick()])).toEqual([
    { requeued: 0, cancelled: 0, republished: 0 },
    { requeued: 0, cancelled: 0, republished: 0 },
  ]);
});
