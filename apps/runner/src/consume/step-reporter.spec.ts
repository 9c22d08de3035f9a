import { JobStepInfo } from '@pdr/contracts';
import { StepReporter } from './step-reporter';

const step = (name: string): JobStepInfo => ({ step: name, detail: {}, at: '2026-01-01T00:00:00.000Z' });

describe('StepReporter', () => {
  it('holds steps until an executable starts, then sends them in one batch; flush sends the rest', async () => {
    const sent: string[][] = [];
    const r = new StepReporter(async (b) => void sent.push(b.map((s) => s.step)));
    r.add(step('setup-finished'));
    await Promise.resolve();
    expect(sent).toEqual([]);
    r.add(step('pdr-started'));
    r.add(step('pdr-finished'));
    r.add(step('onion-started'));
    r.add(step('onion-finished'));
    r.add(step('outputs-stored'));
    await r.flush();
    expect(sent).toEqual([['setup-finished', 'pdr-started'], ['pdr-finished', 'onion-started'], ['onion-finished', 'outputs-stored']]);
    await r.flush(); // nothing left: no empty request
    expect(sent).toHaveLength(3);
  });

  it('one request at a time, in order, even when an earlier one is slow; flush waits for all', async () => {
    const log: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((res) => (release = res));
    const r = new StepReporter(async (b) => {
      log.push(`start ${b[0].step}`);
      if (b[0].step === 'a') await slow;
      log.push(`end ${b[0].step}`);
    });
    r.add(step('a'));
    r.add(step('pdr-started'));
    r.add(step('b'));
    r.add(step('onion-started'));
    let flushed = false;
    const f = r.flush().then(() => (flushed = true));
    await new Promise((res) => setTimeout(res, 20));
    expect(log).toEqual(['start a']);
    expect(flushed).toBe(false);
    release();
    await f;
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('splits a long pile into requests of at most MAX_STEPS_PER_REPORT', async () => {
    const sizes: number[] = [];
    const r = new StepReporter(async (b) => void sizes.push(b.length));
    for (let i = 0; i < 250; i++) r.add(step(`species-failed-${i}`));
    await r.flush();
    expect(sizes).toEqual([100, 100, 50]);
  });
});
