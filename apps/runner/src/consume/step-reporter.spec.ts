import { JobStepInfo } from '@pdr/contracts';
import { StepReporter } from './step-reporter';

const step = (name: string): JobStepInfo => ({ step: name, detail: {}, at: '2026-01-01T00:00:00.000Z' });
/** Jest's fake clock: the delays are exact and cost no real time, however loaded the machine. */
const sleep = (ms: number) => jest.advanceTimersByTimeAsync(ms);

describe('StepReporter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('a quick attempt sends nothing: take() hands every step over for the outcome, in order', async () => {
    const sent: string[][] = [];
    const r = new StepReporter(async (b) => void sent.push(b.map((s) => s.step)), 1_000);
    for (const s of ['setup-finished', 'pdr-started', 'pdr-finished', 'onion-started', 'onion-finished', 'outputs-stored']) r.add(step(s));
    expect((await r.take()).map((s) => s.step)).toEqual(['setup-finished', 'pdr-started', 'pdr-finished', 'onion-started', 'onion-finished', 'outputs-stored']);
    expect(sent).toEqual([]);
    await sleep(1_100); // the timer was stopped: nothing goes out later
    expect(sent).toEqual([]);
  });

  it('steps that waited delayMs go out as one request; later ones wait for the next delay or the outcome', async () => {
    const sent: string[][] = [];
    const r = new StepReporter(async (b) => void sent.push(b.map((s) => s.step)), 50);
    r.add(step('setup-finished'));
    await sleep(30);
    r.add(step('pdr-started')); // joins the waiting one: the delay counts from the first
    await sleep(19);
    expect(sent).toEqual([]);
    await sleep(1);
    expect(sent).toEqual([['setup-finished', 'pdr-started']]);
    r.add(step('pdr-finished'));
    expect((await r.take()).map((s) => s.step)).toEqual(['pdr-finished']);
    expect(sent).toHaveLength(1);
  });

  it('flush() sends what waits and resolves when every request has been answered; one request at a time, in order', async () => {
    const log: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((res) => (release = res));
    const r = new StepReporter(async (b) => {
      log.push(`start ${b.map((s) => s.step).join('+')}`);
      if (b[0].step === 'a') await slow;
      log.push(`end ${b[0].step}`);
    }, 20);
    r.add(step('a'));
    await sleep(60); // 'a' is in flight, stuck
    r.add(step('b'));
    r.add(step('c'));
    let flushed = false;
    const f = r.flush().then(() => (flushed = true));
    await sleep(20);
    expect(log).toEqual(['start a']);
    expect(flushed).toBe(false);
    release();
    await f;
    expect(log).toEqual(['start a', 'end a', 'start b+c', 'end b']);
  });

  it('take() waits for the request in flight before it hands over the rest', async () => {
    const log: string[] = [];
    let release!: () => void;
    const answered = new Promise<void>((res) => (release = res));
    const r = new StepReporter(async (b) => {
      await answered;
      log.push(b.map((s) => s.step).join('+'));
    }, 10);
    r.add(step('a'));
    await sleep(30); // 'a' in flight
    r.add(step('b'));
    let taken = false;
    const taking = r.take().then((steps) => ((taken = true), steps));
    await sleep(1_000);
    expect(taken).toBe(false);
    release();
    const rest = await taking;
    expect(log).toEqual(['a']);
    expect(rest.map((s) => s.step)).toEqual(['b']);
  });

  it('never more than MAX_STEPS_PER_REPORT per request, nor in the hand-over (older ones are sent first)', async () => {
    const sizes: number[] = [];
    const r = new StepReporter(async (b) => void sizes.push(b.length), 60_000);
    for (let i = 0; i < 250; i++) r.add(step(`species-failed-${i}`));
    const rest = await r.take();
    expect(sizes).toEqual([100, 50]);
    expect(rest).toHaveLength(100);
    expect(rest[0].step).toBe('species-failed-150');
    const again = new StepReporter(async (b) => void sizes.push(b.length), 60_000);
    for (let i = 0; i < 250; i++) again.add(step(`x${i}`));
    sizes.length = 0;
    await again.flush();
    expect(sizes).toEqual([100, 100, 50]);
  });
});
