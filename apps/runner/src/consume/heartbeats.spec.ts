import { MAX_HEARTBEATS_PER_REQUEST } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { RunnerHeartbeats } from './heartbeats';

type Attempt = { jobId: number; attempt: number };

const logger = (warnings: string[] = []) => ({ warn: (_o: unknown, msg: string) => warnings.push(msg) }) as unknown as Logger;

/** State answering every attempt alive, except the jobs in `cancel`; records each request's size. */
function fakeState(cancel: number[] = []) {
  const requests: number[] = [];
  const send = async (list: Attempt[]) => {
    requests.push(list.length);
    return { jobs: list.map((a) => ({ ...a, alive: true, cancel: cancel.includes(a.jobId) })) };
  };
  return { send, requests };
}

describe('RunnerHeartbeats (fake clock)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('one request per interval for all attempts, each told its own answer; none once the last one stops', async () => {
    const s = fakeState([2]);
    const hb = new RunnerHeartbeats(s.send, 10_000, logger());
    const told: string[] = [];
    const stop1 = hb.add(1, 1, (b) => told.push(`1:${b.cancel}`));
    const stop2 = hb.add(2, 1, (b) => told.push(`2:${b.cancel}`));
    await jest.advanceTimersByTimeAsync(9_999);
    expect(s.requests).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(s.requests).toEqual([2]);
    expect(told.sort()).toEqual(['1:false', '2:true']);
    stop1();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(s.requests).toEqual([2, 1]);
    stop2();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(s.requests).toEqual([2, 1]);
    expect(hb.size).toBe(0);
  });

  it('splits a round into requests of MAX_HEARTBEATS_PER_REQUEST', async () => {
    const s = fakeState();
    const hb = new RunnerHeartbeats(s.send, 1_000, logger());
    for (let i = 1; i <= MAX_HEARTBEATS_PER_REQUEST + 5; i++) hb.add(i, 1, () => undefined);
    await hb.round();
    expect(s.requests).toEqual([MAX_HEARTBEATS_PER_REQUEST, 5]);
  });

  it('never two rounds at once; a failed round is logged and the next interval tries again', async () => {
    const warnings: string[] = [];
    let release!: () => void;
    let calls = 0;
    const send = (list: Attempt[]) => {
      calls++;
      if (calls === 1) return new Promise<never>((_r, reject) => (release = () => reject(new Error('state away'))));
      return Promise.resolve({ jobs: list.map((a) => ({ ...a, alive: true, cancel: false })) });
    };
    const hb = new RunnerHeartbeats(send, 1_000, logger(warnings));
    hb.add(1, 1, () => undefined);
    await jest.advanceTimersByTimeAsync(3_000); // three intervals while the first round hangs
    expect(calls).toBe(1);
    release();
    await jest.advanceTimersByTimeAsync(0);
    expect(warnings).toEqual(['heartbeats not recorded']);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
  });
});
