/**
 * Claim-ahead (apps/runner/src/consume/job-consumer.ts): while a job stores its outputs, its slot already
 * pulls and claims the next event; that job waits for the slot. With one runner of one slot, jobs must
 * still run one after the other — a job claimed ahead never begins before its predecessor has stored —,
 * every job runs once with one attempt, and a claim ahead does happen.
 */
import { ProcStack, startProcStack } from '../support/proc-stack';

jest.setTimeout(180_000);

let s: ProcStack;
beforeAll(async () => {
  s = await startProcStack({ runners: 1, concurrency: 1 });
});
afterAll(async () => {
  await s?.close();
});

it('one slot runs its jobs one after the other, claiming the next one while the previous stores', async () => {
  const axes = { dens: ['30', '40', '50', '60'], chi: ['10', '20', '30', '40'] };
  // three species: onion runs three times and the store has 23 files, the window claim-ahead uses
  const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'claim_ahead', axes, onionSpecies: ['CO', 'C+', 'C'] }) });
  expect(sub.total).toBe(16);
  const grid = await s.waitDone(sub.gridId, 150_000);
  expect(grid.counts).toMatchObject({ finished: 16, failed: 0, problem: 0 });

  const attempts = await s.sql<{ job_id: number; attempt: number; status: string; started_at: Date }>(
    'SELECT job_id, attempt, status, started_at FROM job_attempts ORDER BY started_at, id',
  );
  expect(attempts.map((a) => [a.attempt, a.status])).toEqual(Array.from({ length: 16 }, () => [1, 'finished']));
  expect(s.runs()).toHaveLength(16);

  const steps = await s.sql<{ job_id: number; step: string; at: Date }>(
    "SELECT job_id, step, at FROM job_steps WHERE step IN ('setup-finished', 'outputs-stored') ORDER BY at, id",
  );
  const at = (jobId: number, step: string) => steps.find((r) => r.job_id === jobId && r.step === step)!.at.getTime();
  const order = [...new Set(steps.filter((r) => r.step === 'setup-finished').map((r) => r.job_id))];
  expect(order).toHaveLength(16);
  let claimedAhead = 0;
  for (let k = 1; k < order.length; k++) {
    const prevStored = at(order[k - 1], 'outputs-stored');
    // never two jobs at once in the one slot: the next job's directory is set up after the previous stored
    expect(at(order[k], 'setup-finished')).toBeGreaterThanOrEqual(prevStored);
    const claimed = attempts.find((a) => a.job_id === order[k])!.started_at.getTime();
    if (claimed < prevStored) claimedAhead++;
  }
  // the claim round trip overlapped a store at least once in 15 hand-overs
  expect(claimedAhead).toBeGreaterThan(0);
});
