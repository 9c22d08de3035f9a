/**
 * Fault: the planner dies in the middle of a submission (SIGKILL the moment its request to state passes
 * by on NATS). A new planner and the same submission again give the same grid id, no duplicate rows in
 * grids / kosmatau_parameters / pdr_model_jobs, and every point runs exactly once.
 */
import { names, RpcName } from '@pdr/contracts';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { sleep } from '../support/processes';

jest.setTimeout(150_000);

let s: ProcStack;
beforeAll(async () => {
  s = await startProcStack({ runners: 2, concurrency: 1 });
});
afterAll(async () => {
  await s?.close();
});

async function count(table: string, where = '', params: unknown[] = []): Promise<number> {
  const rows = await s.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} ${where}`, params);
  return Number(rows[0].n);
}

/** Submits, and SIGKILLs the planner as soon as it sends `rpc` to state; the submission gets no answer. */
async function submitAndKillPlannerAt(rpc: RpcName, request: ReturnType<ProcStack['request']>): Promise<void> {
  const planner = s.planner;
  const sub = s.nc.subscribe(names(s.ns).rpc(rpc), { max: 1, callback: () => planner.signal('SIGKILL') });
  await expect(s.client.request('gridSubmit', { v: 1, request }, { timeoutMs: 5_000 })).rejects.toThrow(/did not answer/);
  await planner.exited;
  sub.unsubscribe();
}

it.each([
  ['state.points.upsert (rows persisted, no event published yet)', 'pointsUpsert' as const, 'killed_at_points', ['30', '40', '50']],
  ['state.jobs.mark-queued (events published, jobs not yet marked queued)', 'markQueued' as const, 'killed_at_mark', ['60', '70', '80']],
])('killed at %s: resubmitting gives the same grid, no duplicate rows, each point run once', async (_label, rpc, modelName, dens) => {
  const request = s.request({ modelName, axes: { dens, chi: ['10', '20'] } });
  const paramsBefore = await count('kosmatau_parameters');
  await submitAndKillPlannerAt(rpc, request);
  await sleep(300); // state finishes the request it had in hand
  const grids = await s.sql<{ id: number }>('SELECT g.id FROM grids g JOIN model_names m ON m.id = g.model_name_id WHERE m.model_name = ?', [modelName]);
  expect(grids).toHaveLength(1);
  const gridId = Number(grids[0].id);
  expect(await count('pdr_model_jobs', 'WHERE grid_id = ?', [gridId])).toBe(6);

  await s.startPlanner();
  const again = await s.client.request('gridSubmit', { v: 1, request });
  expect(again).toMatchObject({ gridId, total: 6, created: 0 });
  const grid = await s.waitDone(gridId);
  expect(grid.counts).toMatchObject({ finished: 6, failed: 0, problem: 0 });

  // no duplicate rows
  expect(await count('grids g JOIN model_names m ON m.id = g.model_name_id', 'WHERE m.model_name = ?', [modelName])).toBe(1);
  expect(await count('pdr_model_jobs', 'WHERE grid_id = ?', [gridId])).toBe(6);
  expect(await count('kosmatau_parameters')).toBe(paramsBefore + 6);
  expect(await count('hdf_files h JOIN pdr_model_jobs j ON j.id = h.job_id', 'WHERE j.grid_id = ?', [gridId])).toBe(6);
  // no duplicate runs: every point ran once, in attempt 1
  const jobs = await s.jobs(gridId);
  expect(jobs.map((j) => j.attempt)).toEqual([1, 1, 1, 1, 1, 1]);
  const runs = s.runs().filter((r) => jobs.some((j) => j.jobName === r.jobName));
  expect(runs.map((r) => r.jobName).sort()).toEqual(jobs.map((j) => j.jobName).sort());

  // and once more: nothing new, nothing run
  const third = await s.client.request('gridSubmit', { v: 1, request });
  expect(third).toMatchObject({ gridId, created: 0, queued: 0, alreadyDone: 6 });
});
