/**
 * The database is the source of truth for delivery (issue 10): job events that the stream lost — or
 * never took, because another database's events had the same ids — are published again from what the
 * database says is queued, without a manual step, and no point runs twice (every real run of the PDR
 * executable leaves a marker line: `s.runs()`). Real processes, real MariaDB and NATS; the nats-server
 * that is killed and wiped is the test's own. Recovery is bounded by the named limits, here
 * PDR_DISPATCH_SWEEP_INTERVAL_MS = 1 s and PDR_STALE_PENDING_MS = 3 s (FAST_TIMINGS).
 */
import { rmSync } from 'fs';
import { names } from '@pdr/contracts';
import { FAST_TIMINGS, ProcStack, startNatsFaultStack, startProcStack } from '../support/proc-stack';
import { describeWithOwnNats, sleep, waitFor } from '../support/processes';

jest.setTimeout(240_000);

const DENS = ['30', '35', '40', '45', '50', '55'];
const CHI = ['10', '20'];
const POINTS = DENS.length * CHI.length;

/** Every point finished, each run exactly once (runs recorded from `runsBefore` on). */
async function expectEachPointRunOnce(s: ProcStack, gridId: number, timeoutMs = 120_000, runsBefore = 0): Promise<void> {
  const grid = await s.waitDone(gridId, timeoutMs);
  expect(grid.counts).toMatchObject({ finished: grid.total, failed: 0, problem: 0, cancelled: 0 });
  const jobs = await s.jobs(gridId);
  const runs = s.runs().slice(runsBefore).map((r) => r.jobName);
  expect(runs.sort()).toEqual(jobs.map((j) => j.jobName).sort());
}

function recoveryBound(): number {
  return Number(FAST_TIMINGS.PDR_DISPATCH_SWEEP_INTERVAL_MS) + Number(FAST_TIMINGS.PDR_STALE_PENDING_MS) + Number(FAST_TIMINGS.PDR_STALE_HEARTBEAT_MS);
}

describe('two databases behind one NATS namespace, one after the other', () => {
  const stacks: ProcStack[] = [];
  afterAll(async () => {
    for (const s of stacks) await s.close();
  });

  it('the second database runs the same grid right after the first: both finish, every point once', async () => {
    const first = await startProcStack({ runners: 1, concurrency: 2 });
    stacks.push(first);
    const req = () => ({ modelName: 'two_dbs', axes: { dens: DENS, chi: CHI } });
    const a = await first.client.request('gridSubmit', { v: 1, request: first.request(req()) });
    await expectEachPointRunOnce(first, a.gridId);
    // a user starting over on a fresh database (PDR_DB_DATABASE changed), same NATS server and namespace,
    // within the stream's duplicate window: job ids 1..12 again
    await first.stopServices();
    const second = await startProcStack({ runners: 1, concurrency: 2, ns: first.ns });
    stacks.push(second);
    const b = await second.client.request('gridSubmit', { v: 1, request: second.request(req()) });
    expect(b.gridId).toBe(a.gridId);
    expect(b.queued).toBe(POINTS);
    await expectEachPointRunOnce(second, b.gridId);
    // the ids themselves differ (the database's installation id is in them): nothing had to be rescued
    // from the duplicate window by the dispatcher's check
    expect(second.logs()).not.toMatch(/swallowed as duplicates/);
  });
});

describeWithOwnNats('nats-server killed mid-grid and restarted without its store', startNatsFaultStack, (f) => {
  it('the grid finishes with every point run exactly once, with no manual step', async () => {
    const { stack: s, nats } = f;
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'nats_wiped', axes: { dens: DENS, chi: CHI } }) });
    await waitFor('runs in progress', () => s.runs().length >= 3, 60_000);
    await nats.kill();
    expect(s.runs().length).toBeLessThan(POINTS);
    // the store is gone: a container without a volume, a failed disk
    rmSync(f.storeDir, { recursive: true, force: true });
    await sleep(500);
    const restartedAt = Date.now();
    await nats.restart();
    await expectEachPointRunOnce(s, sub.gridId, 180_000);
    const recoveredMs = Date.now() - restartedAt;
    console.log(`recovered from an empty nats-server in ${recoveredMs} ms (grid finished; sweep interval + stale pending + stale heartbeat = ${recoveryBound()} ms, plus the remaining runs)`);
    expect(s.logs()).toMatch(/job stream or its consumer was missing: created again/);
    expect(s.logs()).toMatch(/dispatch sweep acted/);
  });
});

describe('the stream purged, and the consumer deleted, mid-grid', () => {
  let s: ProcStack;
  beforeAll(async () => {
    s = await startProcStack({ runners: 2, concurrency: 1, env: { MOCK_PDR_SECONDS: '1' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('purged: the lost events are published again, every point runs once', async () => {
    expect(s.runs()).toEqual([]);
    const n = names(s.ns);
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'purged', axes: { dens: DENS, chi: CHI } }) });
    await waitFor('runs in progress', () => s.runs().length >= 2, 60_000);
    const jsm = await s.nc.jetstreamManager();
    const { purged } = await jsm.streams.purge(n.jobStream);
    expect(purged).toBeGreaterThan(0);
    const t0 = Date.now();
    await expectEachPointRunOnce(s, sub.gridId);
    console.log(`recovered from a purged stream in ${Date.now() - t0} ms`);
    expect(s.logs()).toMatch(/dispatch sweep acted/);
  });

  it('consumer deleted: created again, runners resume pulling without a restart, every point runs once', async () => {
    const n = names(s.ns);
    const before = s.runs().length;
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'no_consumer', axes: { dens: DENS, chi: CHI } }) });
    await waitFor('runs in progress', () => s.runs().length >= before + 2, 60_000);
    const jsm = await s.nc.jetstreamManager();
    expect(await jsm.consumers.delete(n.jobStream, n.jobConsumer)).toBe(true);
    await expectEachPointRunOnce(s, sub.gridId, 120_000, before);
    expect(s.runners.every((r) => r.running)).toBe(true);
    expect((await jsm.consumers.info(n.jobStream, n.jobConsumer)).name).toBe(n.jobConsumer);
  });
});

describe('a duplicate publish of a job whose event is still in the stream', () => {
  let s: ProcStack;
  beforeAll(async () => {
    s = await startProcStack({ runners: 0 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('is taken as published (the original is there), keeps its generation, and runs once', async () => {
    const n = names(s.ns);
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'dup_dispatch', axes: { dens: ['30'], chi: ['10'] } }) });
    const [job] = await s.jobs(sub.gridId);
    const [row] = await s.sql<{ generation: number }>('SELECT generation FROM pdr_model_jobs WHERE id = ?', [job.jobId]);
    const [inst] = await s.sql<{ uuid: string }>('SELECT uuid FROM installation');
    // the same event again through the one dispatch use case (a retried publish): same Nats-Msg-Id
    const again = await s.client.request('plannerDispatch', { v: 1, installationId: inst.uuid, jobs: [[job.jobId, sub.gridId, row.generation]] });
    expect(again).toEqual({ queued: 1 });
    const jsm = await s.nc.jetstreamManager();
    expect((await jsm.streams.info(n.jobStream)).state.messages).toBe(1);
    expect((await s.sql<{ generation: number }>('SELECT generation FROM pdr_model_jobs WHERE id = ?', [job.jobId]))[0].generation).toBe(row.generation);
    await s.startRunner();
    await expectEachPointRunOnce(s, sub.gridId);
  });

  it('a runner configured with another ack_wait / max_deliver than the job consumer has says so at start', async () => {
    const odd = await s.startRunner({ PDR_JOB_ACK_WAIT_MS: '9000', PDR_JOB_MAX_DELIVER: '7' });
    expect(odd.output()).toMatch(/has ack_wait 4000 ms \/ max_deliver 5, this service is configured with 9000 ms \/ 7: the consumer's values apply/);
  });
});

describe('a large grid cancelled, then a small one submitted', () => {
  let s: ProcStack;
  beforeAll(async () => {
    s = await startProcStack({ runners: 0 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("the stream holds none of the cancelled grid's events; the small grid's job is the next one a runner receives", async () => {
    const n = names(s.ns);
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));
    const big = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'big_cancelled', axes: { dens: range(20, 100), chi: range(0, 100) } }) }, { timeoutMs: 120_000 });
    expect(big.total).toBe(10_000);
    const jsm = await s.nc.jetstreamManager();
    expect((await jsm.streams.info(n.jobStream)).state.messages).toBe(big.total);
    const cancelled = await s.client.request('plannerCancel', { v: 1, selector: { gridId: big.gridId }, kill: false });
    expect(cancelled.cancelled).toBe(big.total);
    const info = await jsm.streams.info(n.jobStream, { subjects_filter: n.gridJobSubjects(big.gridId) });
    expect(info.state.messages).toBe(0);
    expect(Object.keys(info.state.subjects ?? {})).toEqual([]);

    const small = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'small_after', axes: { dens: ['30'], chi: ['10'] } }) });
    expect((await jsm.streams.info(n.jobStream)).state.messages).toBe(1);
    const runner = await s.startRunner();
    await expectEachPointRunOnce(s, small.gridId);
    // the runner received exactly one event: the small grid's (no refused claims of cancelled jobs)
    const consumer = await jsm.consumers.info(n.jobStream, n.jobConsumer);
    expect(consumer.delivered.consumer_seq).toBe(1);
    expect(runner.output()).not.toMatch(/claim not granted/);
  });
});
