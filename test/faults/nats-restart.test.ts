/**
 * Fault: nats-server crashes (SIGKILL) mid-grid and comes back on the same store dir. JetStream keeps
 * the job events and the consumer; services reconnect; requests that failed meanwhile are retried.
 * The grid completes, no point is lost and none runs twice. Uses a nats-server of the test's own —
 * never the machine's shared one. The outage (~1.5 s) lies inside the stale-heartbeat window (6 s here):
 * a NATS blip must not make the reconciler take running jobs away from live runners.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { expectedFiles, ProcStack, startProcStack, storedFiles } from '../support/proc-stack';
import { OwnNatsServer, sleep, waitFor } from '../support/processes';

jest.setTimeout(150_000);

const d = OwnNatsServer.available() ? describe : describe.skip;
if (!OwnNatsServer.available()) console.warn('skipped: no nats-server binary (set PDR_TEST_NATS_SERVER)');

d('nats-server restarted mid-grid', () => {
  let storeDir: string;
  let nats: OwnNatsServer;
  let s: ProcStack;
  beforeAll(async () => {
    storeDir = mkdtempSync(join(tmpdir(), 'pdr-nats-store-'));
    nats = await OwnNatsServer.start(storeDir);
    s = await startProcStack({ natsUrl: nats.url, runners: 2, concurrency: 2, env: { MOCK_PDR_SECONDS: '2', PDR_STALE_HEARTBEAT_MS: '6000' } });
  });
  afterAll(async () => {
    await s?.close();
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('the grid completes after a crash and restart of nats-server: no point lost, none run twice', async () => {
    const dens = ['30', '35', '40', '45', '50', '55'];
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'nats_restart', axes: { dens, chi: ['10', '20'] } }) });
    expect(sub.queued).toBe(12);
    await waitFor('runs in progress', () => s.runs().length >= 3, 30_000);
    await nats.kill();
    const runsAtCrash = s.runs().length;
    expect(runsAtCrash).toBeLessThan(12); // the crash hit the grid in the middle
    await sleep(1_000);
    await nats.restart();

    const grid = await s.waitDone(sub.gridId, 90_000);
    expect(grid.counts).toMatchObject({ finished: 12, failed: 0, problem: 0, cancelled: 0 });
    const jobs = await s.jobs(sub.gridId);
    expect(jobs).toHaveLength(12);
    expect(jobs.map((j) => j.attempt)).toEqual(Array(12).fill(1));
    const runs = s.runs().map((r) => r.jobName).sort();
    expect(runs).toEqual(jobs.map((j) => j.jobName).sort());
    const files = storedFiles(s.storageDir, 'nats_restart');
    expect(files).toEqual(jobs.flatMap((j) => expectedFiles(j.jobName)).sort());
  });
});
