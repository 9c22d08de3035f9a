/**
 * Fault: a runner is SIGKILLed while its executable runs. Its heartbeat stops; after ack_wait (or the
 * reconciler's sweep) the job goes to the other runner and ends finished exactly once, with both attempts
 * in its history and its outputs stored once.
 */
import { expectedFiles, ProcStack, startProcStack, storedFiles } from '../support/proc-stack';
import { waitFor } from '../support/processes';

jest.setTimeout(120_000);

let s: ProcStack;
beforeAll(async () => {
  s = await startProcStack({ runners: 2, concurrency: 1, env: { MOCK_PDR_SECONDS: '4' } });
});
afterAll(async () => {
  await s?.close();
});

it('a job whose runner is SIGKILLed mid-run is redelivered to another runner and finishes exactly once', async () => {
  const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'kill_runner', axes: { dens: ['30'], chi: ['10'] } }) });
  expect(sub.total).toBe(1);
  await waitFor('the executable running', () => s.runs().length === 1);
  const [running] = await s.jobs(sub.gridId);
  expect(running.status).toBe('running');
  const victim = s.runners.find((r) => running.runnerId?.includes(`:${r.pid}:`));
  const survivor = s.runners.find((r) => r !== victim)!;
  expect(victim).toBeDefined();
  await victim!.kill();

  const grid = await s.waitDone(sub.gridId, 60_000);
  expect(grid.counts).toMatchObject({ finished: 1, failed: 0, problem: 0 });
  const { job, attempts } = await s.client.request('jobGet', { v: 1, jobId: running.jobId });
  expect(job.status).toBe('finished');
  expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
    [1, 'failed'],
    [2, 'finished'],
  ]);
  expect(attempts[0].reason).toMatch(/heartbeat/);
  expect(attempts[1].runnerId).toContain(`:${survivor.pid}:`);
  // the executable really ran twice: once in the killed runner, once to the end in the survivor
  expect(s.runs()).toEqual([
    { jobName: '100_30_-10_10_00', attempt: 1 },
    { jobName: '100_30_-10_10_00', attempt: 2 },
  ]);
  // outputs once: exactly the files of one job, and one row per file kind
  expect(storedFiles(s.storageDir, 'kill_runner')).toEqual(expectedFiles('100_30_-10_10_00').sort());
  const rows = await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM hdf_files WHERE job_id = ?', [running.jobId]);
  expect(Number(rows[0].n)).toBe(1);
  expect(Number((await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM pdr_model_jobs'))[0].n)).toBe(1);
});
