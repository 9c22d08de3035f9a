import { Admission, OverloadedError } from './admission';

/** A handler that runs until released. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, fn: () => opened };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Admission', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at most maxActive handlers at once, the rest in order of priority, then arrival', async () => {
    const a = new Admission<string>({ maxActive: 2, priority: (k) => (k === 'finish' ? 0 : k === 'claim' ? 2 : 1) });
    const order: string[] = [];
    const g1 = gate();
    const g2 = gate();
    const p1 = a.run('claim', g1.fn);
    const p2 = a.run('claim', g2.fn);
    const later = ['claim#3', 'query', 'finish', 'claim#4', 'finish#2'].map((k) => a.run(k.replace(/#\d$/, ''), async () => void order.push(k)));
    await tick();
    expect(order).toEqual([]);
    expect(a.waiting).toBe(5);
    g1.open();
    g2.open();
    await Promise.all([p1, p2, ...later]);
    expect(order).toEqual(['finish', 'finish#2', 'query', 'claim#3', 'claim#4']);
    expect(a.waiting).toBe(0);
  });

  it('refuses a sheddable request that waited too long (UNAVAILABLE), never the others', async () => {
    // the waiting is measured with Date.now: a fake clock makes "waited 60 ms" exact, however loaded the machine
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const a = new Admission<string>({ maxActive: 1, shedAfterMs: (k) => (k === 'claim' ? 20 : undefined) });
    const g = gate();
    const busy = a.run('finish', g.fn);
    const claim = a.run('claim', async () => 'claimed');
    const finish = a.run('finish', async () => 'finished');
    await jest.advanceTimersByTimeAsync(60);
    g.open();
    await busy;
    await expect(claim).rejects.toBeInstanceOf(OverloadedError);
    await expect(claim).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(finish).resolves.toBe('finished');
    expect(a.shed).toBe(1);
    // a claim that does not wait is never refused
    await expect(a.run('claim', async () => 'claimed')).resolves.toBe('claimed');
  });

  it('a handler that throws frees its place', async () => {
    const a = new Admission<string>({ maxActive: 1 });
    await expect(
      a.run('x', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(a.run('x', async () => 1)).resolves.toBe(1);
  });

  it('rejects a maxActive below 1', () => {
    expect(() => new Admission({ maxActive: 0 })).toThrow(/maxActive must be ≥ 1/);
  });
});
