/**
 * Faults on the state side, mid-grid: the state service is SIGKILLed and started again, and (separately)
 * MariaDB becomes unreachable for a while (a TCP proxy between state and MariaDB is cut, then restored —
 * the shared MariaDB itself is never touched). Meanwhile runners keep their events and retry what state
 * could not answer (claims, heartbeats, outcomes), idle runners pull events they cannot claim yet, and
 * the reconciler does not mistake the lost heartbeats for dead runners. The grid completes with every
 * point done exactly once: one run of the executable, its outputs stored once.
 */
import { JobRow } from '@pdr/contracts';
import { testDatabaseSettings } from '../support/database';
import { expectedFiles, ProcStack, startProcStack, storedFiles } from '../support/proc-stack';
import { sleep, TcpProxy, waitFor } from '../support/processes';

jest.setTimeout(180_000);

let proxy: TcpProxy;
let s: ProcStack;
beforeAll(async () => {
  const db = testDatabaseSettings();
  proxy = await TcpProxy.start({ host: db.host, port: db.port });
  s = await startProcStack({ runners: 2, concurrency: 1, dbVia: { host: '127.0.0.1', port: proxy.port }, env: { MOCK_PDR_SECONDS: '9' } }); // runs that outlast the outages
});
afterAll(async () => {
  await s?.close();
  await proxy?.close();
});

const POINTS = { dens: ['30', '40', '50'], chi: ['10', '20'] };
const N = 6;

/**
 * Every point done exactly once: finished — or skipped, when its runner gave up reporting the outcome
 * (10 s of retries) before state could record it: the redelivery then finds the outputs stored and
 * records them without running anything. Never a second run of the executable (that would mean a live
 * run was taken away and aborted), never an attempt left open, outputs stored once.
 */
async function expectDoneOnce(gridId: number, modelName: string, runsBefore: number): Promise<JobRow[]> {
  const grid = await s.waitDone(gridId, 120_000);
  expect(grid.counts).toMatchObject({ failed: 0, problem: 0, cancelled: 0 });
  expect(grid.counts.finished + grid.counts.skipped).toBe(N);
  const jobs = await s.jobs(gridId);
  expect(jobs).toHaveLength(N);
  for (const j of jobs) {
    const { attempts } = await s.client.request('jobGet', { v: 1, jobId: j.jobId });
    const last = attempts[attempts.length - 1];
    expect({ job: j.jobName, last: [last.attempt, last.status], open: attempts.filter((a) => a.finishedAt === null).length }).toEqual({
      job: j.jobName,
      last: [j.attempt, j.status],
      open: 0,
    });
    if (j.status === 'skipped') expect(attempts.map((a) => a.status)).toEqual(['failed', 'skipped']);
    else expect(attempts.map((a) => a.status)).toEqual(['finished']);
  }
  // every point's executable ran once
  expect(
    s
      .runs()
      .slice(runsBefore)
      .map((r) => r.jobName)
      .sort(),
  ).toEqual(jobs.map((j) => j.jobName).sort());
  // one hdf_files row per job, exactly the files of every job in the storage tree
  const rows = await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM hdf_files h JOIN pdr_model_jobs j ON j.id = h.job_id WHERE j.grid_id = ? GROUP BY h.job_id', [gridId]);
  expect(rows.map((r) => Number(r.n))).toEqual(Array(N).fill(1));
  expect(storedFiles(s.storageDir, modelName)).toEqual(jobs.flatMap((j) => expectedFiles(j.jobName)).sort());
  return jobs;
}

/** Submits a 6-point grid and waits until a few points run; returns the marker count before it. */
async function submitAndWaitForRuns(modelName: string): Promise<{ gridId: number; runsBefore: number }> {
  const runsBefore = s.runs().length;
  const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName, axes: POINTS }) });
  await waitFor('runs in progress', () => s.runs().length >= runsBefore + 2, 30_000);
  expect(s.runs().length - runsBefore).toBeLessThan(N); // the fault hits the grid in the middle
  return { gridId: sub.gridId, runsBefore };
}

it('state SIGKILLed and restarted mid-grid: the grid completes, every point done once', async () => {
  const { gridId, runsBefore } = await submitAndWaitForRuns('state_restart');
  await s.state.kill();
  const idle = await s.startRunner({}, 2); // free slots that pull queued events while nobody can grant a claim
  await sleep(3_000);
  expect(idle.lines.some((l) => /state unreachable; claim retried until it answers/.test(l))).toBe(true);
  await s.startState();
  await expectDoneOnce(gridId, 'state_restart', runsBefore);
});

it('MariaDB unreachable for 6 s mid-grid: state answers UNAVAILABLE meanwhile, the grid completes, every point done once', async () => {
  const { gridId, runsBefore } = await submitAndWaitForRuns('db_outage');
  await proxy.cut();
  await expect(s.client.request('gridStatus', { v: 1, selector: { gridId } }, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  await sleep(6_000);
  await proxy.restore();
  await expectDoneOnce(gridId, 'db_outage', runsBefore);
  // the planner's dispatch sweep asked state during the outage, failed, and went on afterwards
  expect(s.logs()).toMatch(/dispatch sweep failed; next one in the next interval/);
});
