/**
 * The reconciler re-queues running jobs whose heartbeat stopped (new generation) and hands them to the
 * planner, which publishes them; the planner's dispatch sweep publishes pending jobs whose planner went
 * away; two state instances (and two planners) never act on the same job. Sweeps are triggered by the
 * test (reconcile: false, sweep: false), thresholds are short.
 */
import { jobEvent, jobMsgId, names } from '@pdr/contracts';
import { decodeJson } from '@pdr/messaging';
import { one } from '@pdr/persistence';
import type { JetStreamManager } from 'nats';
import { startPlanner, type PlannerHandle } from '../../apps/planner/src/main';
import { gridRequest, Harness, NATS_URL, points, quietLogger, startHarness } from './helpers';

jest.setTimeout(120_000);

const STALE_MS = 300;
let h: Harness;
let jsm: JetStreamManager;
let planner: PlannerHandle;
let planner2: PlannerHandle;

beforeAll(async () => {
  h = await startHarness({ timings: { staleHeartbeatMs: STALE_MS, reconcileIntervalMs: 3_600_000 } });
  const o = { ns: h.ns, natsUrl: NATS_URL, logger: quietLogger('planner'), sweep: false, timings: { stalePendingMs: STALE_MS } };
  planner = await startPlanner(o);
  planner2 = await startPlanner(o);
  jsm = await h.nc.jetstreamManager();
});
afterAll(async () => {
  await planner?.close();
  await planner2?.close();
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

it('re-queues a running job whose heartbeat stopped: new generation, event published by the planner, old attempt lost', async () => {
  const { gridId, installationId: db } = await h.client.request('gridUpsert', gridRequest('stale-running'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
  const jobId = jobs[0][0];
  await h.client.request('markQueued', { v: 1, jobIds: [jobId] });
  const claim = await h.client.request('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'dead-runner' });
  expect(claim.granted).toBe(true);

  expect(await h.state.reconciler.tick()).toEqual({ requeued: 0, cancelled: 0 }); // heartbeat still fresh
  await pause(STALE_MS * 2);
  expect(await h.state.reconciler.tick()).toEqual({ requeued: 1, cancelled: 0 });

  expect(await job(jobId)).toMatchObject({ status: 'queued', generation: 1, pending: 1, active: 0 });
  expect(await eventsOf(jobId)).toEqual([[1, jobMsgId({ db, jobId, generation: 1 })]]);
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

it("the dispatch sweep publishes pending jobs nobody queued (same generation), and two planners' sweeps never act twice", async () => {
  await h.startAnother();
  const { gridId, installationId: db } = await h.client.request('gridUpsert', gridRequest('stale-pending'));
  const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(40, '70') });
  await pause(STALE_MS * 2);
  const [a, b] = await Promise.all([planner.sweep.tick(), planner2.sweep.tick()]);
  expect(a!.stalePending + b!.stalePending).toBe(40);
  for (const [jobId] of jobs) {
    expect(await job(jobId)).toMatchObject({ status: 'queued', generation: 0 });
    expect(await eventsOf(jobId)).toEqual([[0, jobMsgId({ db, jobId, generation: 0 })]]);
  }
  expect(await Promise.all([planner.sweep.tick(), planner2.sweep.tick()])).toEqual([
    { recreated: false, stalePending: 0, lost: 0 },
    { recreated: false, stalePending: 0, lost: 0 },
  ]);
});
