import { backoff, withRetry } from './retry';

/** Runs `p` while advancing jest's fake clock, so the pauses cost no real time. */
async function settle<T>(p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) await jest.advanceTimersByTimeAsync(1_000);
  return p;
}

describe('withRetry', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tries again after a retryable error, with the planned pauses, and returns the result', async () => {
    const pauses: number[] = [];
    let calls = 0;
    const r = await settle(
      withRetry(
        async (n) => {
          calls++;
          if (n < 3) throw new Error(`busy ${n}`);
          return 'ok';
        },
        { attempts: 5, delayMs: backoff.linear(100), retryable: () => true, onRetry: (_e, _n, d) => pauses.push(d) },
      ),
    );
    expect(r).toBe('ok');
    expect(calls).toBe(3);
    expect(pauses).toEqual([100, 200]);
  });

  it('gives up after `attempts` tries with the last error', async () => {
    let calls = 0;
    await expect(
      settle(
        withRetry(
          async (n) => {
            calls++;
            throw new Error(`fail ${n}`);
          },
          { attempts: 3, delayMs: backoff.constant(10), retryable: () => true },
        ),
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('throws a permanent error at once', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('denied');
        },
        { attempts: Infinity, delayMs: backoff.constant(10), retryable: (e) => (e as Error).message !== 'denied' },
      ),
    ).rejects.toThrow('denied');
    expect(calls).toBe(1);
  });

  it('does not pause past the deadline', async () => {
    const start = Date.now();
    let calls = 0;
    await expect(
      settle(
        withRetry(
          async () => {
            calls++;
            throw new Error('down');
          },
          { attempts: Infinity, delayMs: backoff.exponential(250, 5_000), retryable: () => true, deadline: start + 2_000 },
        ),
      ),
    ).rejects.toThrow('down');
    // 250 + 500 + 1000 = 1750 ms of pauses fit; the next 2000 would pass the deadline
    expect(calls).toBe(4);
  });

  it('shapes the pauses', () => {
    expect([1, 2, 3, 4, 5, 6].map(backoff.exponential(250, 5_000))).toEqual([250, 500, 1000, 2000, 4000, 5000]);
    expect([1, 2, 3].map(backoff.linear(1_000))).toEqual([1000, 2000, 3000]);
    for (const n of [1, 2, 5]) {
      const d = backoff.jittered(5, 20)(n);
      expect(d).toBeGreaterThanOrEqual(5);
      expect(d).toBeLessThan(5 + 20 * n);
    }
    const spread = Array.from({ length: 200 }, () => backoff.spread(1_000)());
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...spread)).toBeLessThan(1_500);
    expect(new Set(spread).size).toBeGreaterThan(50); // not one constant pause
  });

  it('refuses a plan without tries', async () => {
    await expect(withRetry(async () => 1, { attempts: 0, delayMs: backoff.constant(1), retryable: () => true })).rejects.toThrow('attempts must be at least 1');
  });
});
