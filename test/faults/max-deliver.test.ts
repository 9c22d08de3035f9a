/**
 * Fault: an executable that never ends. Every delivery times out (the grid's pdr timeout), the event is
 * given back for a retry until max_deliver is reached, and the job ends `failed` with a reason that says
 * so — never a silent drop, never a process left behind.
 */
import { ProcStack, startProcStack } from '../support/proc-stack';
import { killStrays } from '../support/processes';

jest.setTimeout(120_000);

let s: ProcStack;
beforeAll(async () => {
  s = await startProcStack({ runners: 1, concurrency: 1, env: { MOCK_PDR_HANG: '1', PDR_JOB_MAX_DELIVER: '2' } });
});
afterAll(async () => {
  await s?.close();
});

it('a job that times out on every delivery ends failed after max_deliver with the timeout as its reason', async () => {
  const request = s.request({ modelName: 'always_hangs', axes: { dens: ['30'], chi: ['10'] }, run: { timeouts: { pdrMs: 1500, onionMs: 60_000 } } });
  const sub = await s.client.request('gridSubmit', { v: 1, request });
  const grid = await s.waitDone(sub.gridId, 60_000);
  expect(grid.counts).toMatchObject({ failed: 1, finished: 0, queued: 0, pending: 0 });

  const [job] = await s.jobs(sub.gridId);
  expect(job.status).toBe('failed');
  expect(job.reason).toMatch(/timeout: PDR did not finish within 1500 ms/);
  expect(job.reason).toMatch(/gave up after 2 deliveries/);
  expect(job.timeOfFinish).not.toBeNull();
  expect(job.executionMs).not.toBeNull();
  // two deliveries, two real runs, two attempts in the history, nothing more
  expect(s.runs()).toEqual([
    { jobName: '100_30_-10_10_00', attempt: 1 },
    { jobName: '100_30_-10_10_00', attempt: 2 },
  ]);
  const { attempts } = await s.client.request('jobGet', { v: 1, jobId: job.jobId });
  expect(attempts).toHaveLength(2);
  expect(attempts[1]).toMatchObject({ attempt: 2, status: 'failed' });
  // the hanging executables were killed, not orphaned (each ran in its own job dir under the work root)
  expect(killStrays(s.workDir)).toEqual([]);
  // no outputs of a failed job in the storage tree
  const rows = await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM hdf_files');
  expect(Number(rows[0].n)).toBe(0);
});
