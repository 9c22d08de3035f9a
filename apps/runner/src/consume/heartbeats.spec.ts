import { createLogger } from '@pdr/logging';
import { RunnerHeartbeats } from './heartbeats';

const logger = createLogger('test', { level: 'silent', logDir: null });

describe('RunnerHeartbeats', () => {
  it('one request per round for every attempt, replies dispatched per attempt, never two rounds at once', async () => {
    const sent: Array<Array<{ jobId: number; attempt: number }>> = [];
    let release!: () => void;
    const hb = new RunnerHeartbeats(
      async (attempts) => {
        sent.push(attempts);
        await new Promise<void>((r) => (release = r));
        return { jobs: attempts.map((a) => ({ ...a, alive: a.jobId !== 2, cancel: a.jobId === 3 })) };
      },
      60_000,
      logger,
    );
    const got: string[] = [];
    const stop1 = hb.add(1, 1, (b) => got.push(`1:${b.alive}:${b.cancel}`));
    hb.add(2, 4, (b) => got.push(`2:${b.alive}:${b.cancel}`));
    hb.add(3, 1, (b) => got.push(`3:${b.alive}:${b.cancel}`));
    const round = hb.round();
    await hb.round(); // a second round while the first is in flight does nothing
    expect(sent).toEqual([[{ jobId: 1, attempt: 1 }, { jobId: 2, attempt: 4 }, { jobId: 3, attempt: 1 }]]);
    release();
    await round;
    expect(got).toEqual(['1:true:false', '2:false:false', '3:true:true']);
    stop1();
    expect(hb.size).toBe(2);
  });

  it('more attempts than one request may carry go in several requests; a failed request is not fatal', async () => {
    const sizes: number[] = [];
    let calls = 0;
    const hb = new RunnerHeartbeats(
      async (attempts) => {
        sizes.push(attempts.length);
        if (++calls === 1) throw new Error('state away');
        return { jobs: attempts.map((a) => ({ ...a, alive: true, cancel: false })) };
      },
      60_000,
      logger,
    );
    let answered = 0;
    const stops = Array.from({ length: 1500 }, (_, i) => hb.add(i + 1, 1, () => answered++));
    await hb.round();
    expect(sizes).toEqual([1000, 500]);
    expect(answered).toBe(500);
    for (const s of stops) s();
    expect(hb.size).toBe(0);
    await hb.round(); // nothing to send
    expect(sizes).toHaveLength(2);
  });
});
