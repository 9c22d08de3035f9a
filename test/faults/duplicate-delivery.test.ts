/**
 * Fault: two runners hold the same job event at once. The claim is a compare-and-set in state, so exactly
 * one runs the executable; the other is refused ("attempt 1 of runner … is running it") and acks.
 * Two ways to get there: the same event published twice under different Nats-Msg-Ids, and a redelivery
 * forced by an ack_wait shorter than the job while the runner sends no in-progress acks.
 */
import { encodeJson } from '@pdr/messaging';
import { names } from '@pdr/contracts';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { waitFor } from '../support/processes';

jest.setTimeout(120_000);

const REFUSED = /"msg":"claim not granted, event dropped"/;

function refusalsWhileRunning(s: ProcStack): string[] {
  return s.runners.flatMap((r) => r.lines.filter((l) => REFUSED.test(l) && /"status":"running"/.test(l)));
}

describe('the same job event published twice (different Nats-Msg-Id)', () => {
  let s: ProcStack;
  beforeAll(async () => {
    s = await startProcStack({ runners: 2, concurrency: 1, env: { MOCK_PDR_SECONDS: '3' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('exactly one runner runs it; the other claim is refused', async () => {
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'dup_event', axes: { dens: ['30'], chi: ['10'] } }) });
    const [job] = await s.jobs(sub.gridId);
    // a second copy of the planner's event, as a duplicate publish outside the dedupe window would be
    const ack = await s.nc.jetstream().publish(names(s.ns).jobSubject(sub.gridId, job.jobId), encodeJson({ v: 1, jobId: job.jobId, gridId: sub.gridId, generation: job.generation }), {
      msgID: `test-duplicate-${job.jobId}`,
    });
    expect(ack.duplicate).toBe(false);

    const grid = await s.waitDone(sub.gridId);
    expect(grid.counts.finished).toBe(1);
    await waitFor('the second copy refused while the first one runs', () => refusalsWhileRunning(s).length === 1);
    expect(s.runs()).toEqual([{ jobName: '100_30_-10_10_00', attempt: 1 }]);
    const { attempts } = await s.client.request('jobGet', { v: 1, jobId: job.jobId });
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'finished']]);
    // both copies were consumed: nothing left in the stream for anybody
    const info = await (await s.nc.jetstreamManager()).consumers.info(names(s.ns).jobStream, names(s.ns).jobConsumer);
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });
});

describe('a redelivery while the first runner still runs the job (ack_wait < job, no in-progress acks)', () => {
  let s: ProcStack;
  beforeAll(async () => {
    s = await startProcStack({
      runners: 2,
      concurrency: 1,
      // ack_wait 1.5 s, heartbeats (and with them "working" acks) only every 20 s, a heartbeat counts as stale after 60 s
      env: { MOCK_PDR_SECONDS: '5', PDR_JOB_ACK_WAIT_MS: '1500', PDR_HEARTBEAT_INTERVAL_MS: '20000', PDR_STALE_HEARTBEAT_MS: '60000' },
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('the second runner is refused while the first one runs; one run, one attempt', async () => {
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'dup_redelivery', axes: { dens: ['30'], chi: ['10'] } }) });
    await waitFor('a refused claim of the running job', () => refusalsWhileRunning(s).length > 0, 30_000);
    const grid = await s.waitDone(sub.gridId);
    expect(grid.counts.finished).toBe(1);
    expect(s.runs()).toEqual([{ jobName: '100_30_-10_10_00', attempt: 1 }]);
    const [job] = await s.jobs(sub.gridId);
    expect(job.attempt).toBe(1);
    const { attempts } = await s.client.request('jobGet', { v: 1, jobId: job.jobId });
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'finished']]);
    // the refusal names who holds the job
    expect(refusalsWhileRunning(s)[0]).toMatch(/attempt 1 of runner runner@/);
  });
});
