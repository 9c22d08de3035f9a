import { GridMapReply, JOB_STATUSES } from '@pdr/contracts';
import { GridModel } from './model';
import { MapView, parseViewSpec, ViewError } from './view';

const S = (s: (typeof JOB_STATUSES)[number]) => JOB_STATUSES.indexOf(s);

/** 2 metal × 3 dens × 1 mass × 2 chi, given out of order and over two pages, plus one legacy name. */
function model(): GridModel {
  const names: string[] = [];
  for (const metal of ['100', '50']) for (const dens of ['40', '30', '-05']) for (const chi of ['20', '10']) names.push(`${metal}_${dens}_-10_${chi}_00`);
  const ids = names.map((_, i) => i + 1);
  const status = names.map((n) => (n === '50_30_-10_10_00' ? S('failed') : n.startsWith('100_') ? S('finished') : S('queued')));
  const page = (from: number, to: number, next: number | null): GridMapReply => ({
    ids: ids.slice(from, to),
    names: names.slice(from, to),
    status: status.slice(from, to),
    attempts: ids.slice(from, to).map((id) => (id === 1 ? 3 : 1)),
    ms: ids.slice(from, to).map((id) => (id <= 6 ? id * 1000 : null)),
    nextAfterId: next,
  });
  const legacy: GridMapReply = { ids: [99], names: ['legacy-name'], status: [S('finished')], attempts: [1], ms: [5], nextAfterId: null };
  return new GridModel([page(0, 5, 5), page(5, 12, null), legacy]);
}

describe('GridModel', () => {
  it('sorts each axis numerically and keeps legacy names off the map', () => {
    const m = model();
    expect(m.axes).toEqual({ metal: ['50', '100'], dens: ['-05', '30', '40'], mass: ['-10'], chi: ['10', '20'] });
    expect(m.n).toBe(12);
    expect(m.unplaced).toBe(1);
    expect(m.counts()[S('finished')]).toBe(7); // the legacy job counts, off the map
    expect(m.apply({ v: 1, gridId: 1, jobId: 99, jobName: 'legacy-name', status: 'failed', attempt: 2, reason: null, at: new Date().toISOString() })).toBe(-1);
    expect(m.counts()[S('failed')]).toBe(2);
  });

  it('applies progress events by job id, ignoring jobs it does not hold', () => {
    const m = model();
    const i = m.apply({ v: 1, gridId: 1, jobId: 7, jobName: 'x', status: 'running', attempt: 2, reason: null, at: new Date().toISOString() });
    expect(m.status[i]).toBe(S('running'));
    expect(m.attempts[i]).toBe(2);
    expect(m.apply({ v: 1, gridId: 1, jobId: 1234, jobName: 'x', status: 'running', attempt: 2, reason: null, at: new Date().toISOString() })).toBe(-1);
  });
});

describe('MapView', () => {
  it('one cell per point with every other axis fixed', () => {
    const m = model();
    const v = new MapView(m, parseViewSpec(new URLSearchParams('x=dens&y=chi&metal=50'), m));
    const c = v.cells();
    expect([c.nx, c.ny]).toEqual([3, 2]);
    expect(c.n).toEqual([1, 1, 1, 1, 1, 1]);
    // dens 30 (ix 1), chi 10 (iy 0) of metal 50 is the failed one
    expect(c.status[1]).toBe(S('failed'));
    expect(c.status.filter((s) => s === S('queued'))).toHaveLength(5);
    expect(c.job[1]).toBe(m.ids[m.indexOf(c.job[1])]);
  });

  it('aggregates over "all": the most notable status, mean run time, most attempts', () => {
    const m = model();
    const byStatus = new MapView(m, parseViewSpec(new URLSearchParams('x=dens&y=chi'), m)).cells();
    expect(byStatus.n).toEqual([2, 2, 2, 2, 2, 2]);
    expect(byStatus.status[1]).toBe(S('failed')); // failed beats finished
    expect(byStatus.status[0]).toBe(S('queued')); // work to do beats done
    expect(byStatus.job).toEqual([0, 0, 0, 0, 0, 0]);
    const time = new MapView(m, parseViewSpec(new URLSearchParams('x=dens&y=chi&colour=time&metal=100'), m)).cells();
    expect(time.value.every((x) => typeof x === 'number' && x > 0)).toBe(true);
    const attempts = new MapView(m, parseViewSpec(new URLSearchParams('x=dens&y=chi&colour=attempts'), m)).cells();
    expect(Math.max(...(attempts.value as number[]))).toBe(3);
  });

  it('sends only the cells of changed points', () => {
    const m = model();
    const v = new MapView(m, parseViewSpec(new URLSearchParams('x=dens&y=chi&metal=100'), m));
    const i = m.apply({ v: 1, gridId: 1, jobId: 2, jobName: 'x', status: 'failed', attempt: 1, reason: 'x', at: new Date().toISOString() });
    const d = v.delta([i]);
    expect(d).toHaveLength(5);
    expect(d[1]).toBe(S('failed'));
    expect(v.delta([m.indexOf(7)])).toEqual([]); // metal 50: not in this view
  });

  it('names the parameter of a bad view', () => {
    const m = model();
    expect(() => parseViewSpec(new URLSearchParams('x=foo'), m)).toThrow(new ViewError('x=foo: expected one of metal, dens, mass, chi'));
    expect(() => parseViewSpec(new URLSearchParams('x=dens&y=dens'), m)).toThrow(/two different axes/);
    expect(() => parseViewSpec(new URLSearchParams('metal=7'), m)).toThrow(/metal=7: not a value of this grid/);
    expect(() => parseViewSpec(new URLSearchParams('colour=red'), m)).toThrow(/colour=red/);
  });
});

