import type { Logger } from '@pdr/logging';
import { PeriodicTask } from './periodic';

function fakeLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Logger & { warnings: string[] };
}

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs at start and then every interval, until stopped', async () => {
    let runs = 0;
    const t = new PeriodicTask({ name: 'sweep', intervalMs: 1_000, run: async () => ++runs, logger: fakeLogger() });
    t.start();
    t.start(); // a second start changes nothing
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(runs).toBe(4);
    await t.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(4);
    expect(t.lastRunAt).not.toBeNull();
  });

  it('never runs twice at once: a tick during a run waits for that run', async () => {
    let runs = 0;
    let release!: () => void;
    const t = new PeriodicTask({ name: 'sweep', intervalMs: 1_000, run: () => new Promise<number>((r) => (release = () => r(++runs))), logger: fakeLogger() });
    const a = t.tick();
    const b = t.tick();
    expect(b).toBe(a);
    release();
    expect(await a).toBe(1);
    expect(runs).toBe(1);
  });

  it('survives a failed run: logged, kept in lastError, cleared by the next success', async () => {
    const logger = fakeLogger();
    let fail = true;
    const failures: unknown[] = [];
    const successes: number[] = [];
    const t = new PeriodicTask({
      name: 'reconciler sweep',
      intervalMs: 1_000,
      run: async () => {
        if (fail) throw new Error('database away');
        return 7;
      },
      onSuccess: (r) => successes.push(r),
      onFailure: (e) => failures.push(e),
      logger,
    });
    expect(await t.tick()).toBeUndefined();
    expect(t.lastError).toBe('database away');
    expect(logger.warnings).toEqual(['reconciler sweep failed; next one in the next interval']);
    expect(failures).toHaveLength(1);
    fail = false;
    expect(await t.tick()).toBe(7);
    expect(t.lastError).toBeNull();
    expect(successes).toEqual([7]);
  });

  it('stop waits for the run in progress', async () => {
    let release!: () => void;
    let done = false;
    const t = new PeriodicTask({
      name: 'sweep',
      intervalMs: 1_000,
      run: () => new Promise<void>((r) => (release = r)).then(() => void (done = true)),
      logger: fakeLogger(),
    });
    t.start();
    const stopped = t.stop();
    release();
    await stopped;
    expect(done).toBe(true);
  });
});
