import type { DispatchJob, JobEvent } from '@pdr/contracts';
import type { ContractClient, JobStream } from '@pdr/messaging';
import type { Logger } from 'pino';
import { JobDispatcher } from './job-dispatcher';

const quietLog = { warn: () => undefined, error: () => undefined, info: () => undefined } as unknown as Logger;

/** State as the dispatcher sees it: records markQueued, answers jobsRedispatch with a new generation. */
function fakeState() {
  const calls: Array<[string, unknown]> = [];
  const client = {
    request: async (name: string, body: { jobIds: number[] }) => {
      calls.push([name, body]);
      if (name === 'jobsRedispatch') return { installationId: 'db-1', jobs: body.jobIds.map((id) => [id, 7, 2] as DispatchJob) };
      return { ok: true };
    },
  } as unknown as ContractClient;
  return { client, calls };
}

/** A stream that swallows the given job ids as duplicates for the first `times` publishes. */
function fakeStream(swallow: number[], times: number) {
  const published: JobEvent[][] = [];
  const stream = {
    publish: async (events: JobEvent[]) => {
      published.push(events);
      const swallowed = published.length <= times ? events.filter((e) => swallow.includes(e.jobId)) : [];
      return { swallowed };
    },
  } as unknown as JobStream;
  return { stream, published };
}

describe('JobDispatcher', () => {
  it('publishes first, then marks the published jobs queued', async () => {
    const s = fakeState();
    const st = fakeStream([], 0);
    const n = await new JobDispatcher(s.client, st.stream, quietLog).dispatch('db-1', [
      [1, 7, 0],
      [2, 7, 0],
    ]);
    expect(n).toBe(2);
    expect(st.published).toEqual([
      [
        { v: 1, jobId: 1, gridId: 7, generation: 0, db: 'db-1' },
        { v: 1, jobId: 2, gridId: 7, generation: 0, db: 'db-1' },
      ],
    ]);
    expect(s.calls).toEqual([['markQueued', { v: 1, jobIds: [1, 2] }]]);
  });

  it('a job swallowed as a duplicate gets a new generation from state and is published again', async () => {
    const s = fakeState();
    const st = fakeStream([2], 1);
    const n = await new JobDispatcher(s.client, st.stream, quietLog).dispatch('db-1', [
      [1, 7, 0],
      [2, 7, 0],
    ]);
    expect(n).toBe(2);
    expect(s.calls.map(([name]) => name)).toEqual(['markQueued', 'jobsRedispatch', 'markQueued']);
    expect(st.published[1]).toEqual([{ v: 1, jobId: 2, gridId: 7, generation: 2, db: 'db-1' }]);
  });

  it('gives up after three rounds and leaves the job pending for the sweep (not counted as queued)', async () => {
    const s = fakeState();
    const st = fakeStream([2], Infinity);
    const n = await new JobDispatcher(s.client, st.stream, quietLog).dispatch('db-1', [
      [1, 7, 0],
      [2, 7, 0],
    ]);
    expect(n).toBe(1);
    expect(st.published).toHaveLength(3);
    expect(s.calls.filter(([name]) => name === 'markQueued').map(([, b]) => b)).toEqual([{ v: 1, jobIds: [1] }]);
  });
});
