/**
 * Correctness at scale: 2 000 virtual runner slots (test/bench/load-generator.js: 40 runners × 50 slots
 * that speak the real runner contract, no executables) against real state services (built, as child
 * processes) on one database. Every job is claimed and its outcome recorded exactly once, none is lost,
 * no request is answered with an error, and the database never sees more connections than the state
 * services' pools — however many slots pull. Then the same with a second state instance that is
 * SIGKILLed in the middle of the run and started again.
 *
 * Sizes are small enough for `npm test` on a busy 2-core machine; nothing here is timed (speed is
 * `npm run bench`'s). The waits are generous upper bounds, never assertions.
 */
import { names } from '@pdr/contracts';
import { DEFAULT_POOL_MAX } from '@pdr/persistence';
import { databaseSettings } from '../../apps/state/src/main';
import { startVirtualRunners, watchConnections, type ConnectionWatch, type Fleet } from '../bench/load-generator';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { Proc, sleep } from '../support/processes';
import { gridCountsDrift } from '../support/grid-counts';

jest.setTimeout(600_000);

const RUNNERS = 40;
const SLOTS = 50; // 2 000 slots
/** The state service's pool when nothing configures it (the config's pool_size default). */
const POOL = databaseSettings({}).poolMax ?? DEFAULT_POOL_MAX;
/** Short jobs: the load is on state and the bus, not on waiting. */
const DURATION = 'uniform:0-300';

let s: ProcStack;
let watch: ConnectionWatch;
beforeAll(async () => {
  // heartbeats every second (the fleet's), but a busy machine's pauses must not look like dead runners
  s = await startProcStack({ runners: 0, prefix: 'scale', env: { PDR_JOB_ACK_WAIT_MS: '15000', PDR_STALE_HEARTBEAT_MS: '20000' } });
  watch = await watchConnections(s.db);
});
afterAll(async () => {
  await watch?.stop();
  await s?.close();
});

/** Axes of an n-point grid (n a multiple of 50). */
function axes(n: number) {
  const dens = Array.from({ length: n / 50 }, (_, i) => String(10 + i));
  const chi = Array.from({ length: 50 }, (_, i) => String(i));
  return { dens, chi };
}

async function submit(modelName: string, n: number): Promise<number> {
  const r = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName, axes: axes(n), onionSpecies: ['CO'] }) }, { timeoutMs: 120_000 });
  expect(r).toMatchObject({ total: n, created: n, queued: n });
  return r.gridId;
}

const db = () => `\`${s.db.database}\``;

/** What the database recorded of a grid: per job status and attempts, and how many outcomes/rows it has. */
async function recorded(gridId: number) {
  const jobs = await watch.query<{ id: number; status: string; attempt: number }>(`SELECT id, status, attempt FROM ${db()}.pdr_model_jobs WHERE grid_id = ?`, [gridId]);
  const attempts = await watch.query<{ job_id: number; attempt: number; status: string }>(
    `SELECT a.job_id, a.attempt, a.status FROM ${db()}.job_attempts a JOIN ${db()}.pdr_model_jobs j ON j.id = a.job_id WHERE j.grid_id = ?`,
    [gridId],
  );
  const perJob = (table: string) =>
    watch.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${db()}.pdr_model_jobs j LEFT JOIN ${db()}.${table} t ON t.job_id = j.id WHERE j.grid_id = ? GROUP BY j.id`, [gridId]);
  const files = await watch.query<{ n: number }>(
    `SELECT COUNT(f.job_id) AS n FROM ${db()}.pdr_model_jobs j LEFT JOIN ${db()}.job_files f ON f.job_id = j.id WHERE j.grid_id = ? GROUP BY j.id`,
    [gridId],
  );
  return { jobs, attempts, hdf: (await perJob('hdf_files')).map((r) => Number(r.n)), json: (await perJob('json_files')).map((r) => Number(r.n)), files: files.map((r) => Number(r.n)) };
}

/** Runs a grid of `n` points through the fleet until every job has an outcome; `during` runs meanwhile. */
async function runGrid(modelName: string, n: number, during?: (fleet: Fleet) => Promise<void>) {
  const gridId = await submit(modelName, n);
  const fleet = await startVirtualRunners({ natsUrl: s.natsUrl, ns: s.ns, runners: RUNNERS, slots: SLOTS, duration: DURATION, heartbeatMs: 1_000, stepDelayMs: 2_000, requestTimeoutMs: 15_000, retryDelayMs: 500, progress: process.env.PDR_SCALE_PROGRESS ? (l) => process.stderr.write(`${l}\n`) : undefined });
  try {
    const extra = during ? during(fleet) : Promise.resolve();
    await fleet.until((f) => f.outcomes.size >= n, 480_000, `${n} outcomes of grid ${gridId}`);
    await extra;
    // nothing left in the stream: every event was acked (none is waiting for a redelivery)
    const jsm = await s.nc.jetstreamManager();
    const info = await jsm.consumers.info(names(s.ns).jobStream, names(s.ns).jobConsumer);
    return { gridId, fleet, pending: info.num_pending, ackPending: info.num_ack_pending };
  } finally {
    await fleet.stop(10_000);
  }
}

/**
 * `exactReplies`: every finish was answered the first time, so each job has exactly one applied outcome;
 * after a state instance was killed a finish whose reply was lost is repeated and answered applied:false
 * (already recorded) — then at most one applied, and the database decides.
 */
function expectEveryJobOnce(n: number, rec: Awaited<ReturnType<typeof recorded>>, fleet: Fleet, exactReplies: boolean) {
  // the database: every job finished, exactly one finished attempt, no attempt left open, its records once
  expect(rec.jobs).toHaveLength(n);
  expect(rec.jobs.filter((j) => j.status !== 'finished')).toEqual([]);
  const finishedAttempts = new Map<number, number>();
  for (const a of rec.attempts) if (a.status === 'finished') finishedAttempts.set(a.job_id, (finishedAttempts.get(a.job_id) ?? 0) + 1);
  expect(rec.jobs.filter((j) => finishedAttempts.get(j.id) !== 1).map((j) => j.id)).toEqual([]);
  expect(rec.attempts.filter((a) => a.status === 'running')).toEqual([]);
  expect(new Set(rec.hdf)).toEqual(new Set([1]));
  expect(new Set(rec.json)).toEqual(new Set([1]));
  expect(new Set(rec.files)).toEqual(new Set([13]));
  // the fleet: one applied outcome per job, for the attempt the database kept
  const byId = new Map(rec.jobs.map((j) => [j.id, j]));
  const applied = [...fleet.outcomes].map(([id, os]) => [id, os.filter((o) => o.applied)] as const);
  expect(applied.filter(([, os]) => (exactReplies ? os.length !== 1 : os.length > 1)).map(([id]) => id)).toEqual([]);
  expect(applied.filter(([id, os]) => os.length && byId.get(id)?.attempt !== os[0].attempt).map(([id]) => id)).toEqual([]);
  expect(fleet.outcomes.size).toBe(n);
  expect(fleet.counts.errorReplies).toBe(0);
  expect(fleet.errors).toEqual([]);
}

/** The grid's counts kept by the database's triggers (what gridStatus reads) agree with a recount. */
async function expectCountsKept() {
  expect(await gridCountsDrift((sql) => watch.query(sql), `${db()}.`)).toEqual([]);
}

const DB_TROUBLE = /Too many connections|Timeout acquiring a connection|Connection Error|ECONNREFUSED|PROTOCOL_CONNECTION_LOST|"code":"(UNAVAILABLE|INTERNAL)"/;

it('2 000 virtual slots, one state service: every job claimed once, every outcome recorded once, connections within the pool', async () => {
  const N = 2_000;
  watch.peak = 0;
  const { gridId, fleet, pending, ackPending } = await runGrid('scale_one_state', N);
  const rec = await recorded(gridId);
  expectEveryJobOnce(N, rec, fleet, true);
  await expectCountsKept();
  // with state up all the time, every job is claimed once: one granted claim per job, one attempt per job
  expect([...fleet.claims.values()].filter((a) => a.length !== 1)).toEqual([]);
  expect(fleet.claims.size).toBe(N);
  expect(rec.attempts).toHaveLength(N);
  // claims refused as "busy" were asked again (admission control); nothing was given back or lost
  expect({ nakked: fleet.counts.nakked, lost: fleet.counts.lost, termed: fleet.counts.termed }).toEqual({ nakked: 0, lost: 0, termed: 0 });
  expect({ pending, ackPending }).toEqual({ pending: 0, ackPending: 0 });
  // the slots really pulled at once, and the database saw no more than one pool of connections
  expect(fleet.peakRunning).toBeGreaterThan(SLOTS);
  expect(watch.samples).toBeGreaterThan(10);
  expect(watch.peak).toBeGreaterThan(0);
  expect(watch.peak).toBeLessThanOrEqual(POOL);
  expect(s.state.output()).not.toMatch(DB_TROUBLE);
});

it('the same with a second state instance SIGKILLed mid-run and started again: no job lost, none recorded twice', async () => {
  const N = 2_000;
  const first = s.state;
  const second: Proc = await s.startState();
  watch.peak = 0;
  let killedAt = -1;
  const { gridId, fleet, pending, ackPending } = await runGrid('scale_state_killed', N, async (f) => {
    await f.until((x) => x.outcomes.size >= N / 4, 300_000, 'a quarter of the outcomes');
    killedAt = f.outcomes.size;
    await second.kill();
    await sleep(2_000);
    await s.startState();
  });
  expect(killedAt).toBeLessThan(N); // the kill hit the run in the middle
  const rec = await recorded(gridId);
  expectEveryJobOnce(N, rec, fleet, false);
  await expectCountsKept();
  expect({ pending, ackPending }).toEqual({ pending: 0, ackPending: 0 });
  // at most two instances' pools at any time (the killed one's connections are dropped by MariaDB)
  expect(watch.peak).toBeLessThanOrEqual(2 * POOL);
  // the instances that lived through it saw no database trouble
  expect(first.output()).not.toMatch(DB_TROUBLE);
  expect(s.state.output()).not.toMatch(DB_TROUBLE);
});
