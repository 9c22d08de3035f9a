import { slotGate, slotUnlessAborted } from './slot-gate';

const tick = () => new Promise((r) => setImmediate(r));

describe('slotGate (the runner slots a job claimed ahead waits for)', () => {
  it('grants at most `slots` at once, in the order asked; a release hands the slot to the next', async () => {
    const acquire = slotGate(1);
    const order: string[] = [];
    const first = await acquire();
    const second = acquire().then((r) => (order.push('second'), r));
    const third = acquire().then((r) => (order.push('third'), r));
    await tick();
    expect(order).toEqual([]);
    first();
    first(); // twice: harmless, frees one slot only
    const r2 = await second;
    await tick();
    expect(order).toEqual(['second']);
    r2();
    (await third)();
    expect(order).toEqual(['second', 'third']);
  });

  it('an abort ends the wait at once with null, and the slot granted later is handed on', async () => {
    const acquire = slotGate(1);
    const holder = await acquire();
    const ctrl = new AbortController();
    const waiting = slotUnlessAborted(acquire, ctrl.signal);
    const next = slotUnlessAborted(acquire, new AbortController().signal);
    ctrl.abort();
    expect(await waiting).toBeNull();
    holder();
    const release = await next; // the aborted waiter did not keep the slot
    expect(typeof release).toBe('function');
    release!();
  });

  it('an already aborted job gets no slot, and the slot stays free', async () => {
    const acquire = slotGate(1);
    const ctrl = new AbortController();
    ctrl.abort();
    expect(await slotUnlessAborted(acquire, ctrl.signal)).toBeNull();
    const r = await slotUnlessAborted(acquire, new AbortController().signal);
    expect(r).not.toBeNull();
    r!();
  });

  it('a free slot is granted without waiting', async () => {
    const acquire = slotGate(2);
    const a = await slotUnlessAborted(acquire, new AbortController().signal);
    const b = await slotUnlessAborted(acquire, new AbortController().signal);
    expect(a && b).toBeTruthy();
  });
});
