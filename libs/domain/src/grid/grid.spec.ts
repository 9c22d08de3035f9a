import { InvalidParameterValue } from '../encoding/encoding';
import { axesOfMode, expandGrid, gridPointAt, gridSize, iterateGrid, jobNameOf, normalizeAxes, pointOfJobName } from './grid';
import { mulberry32, newSeed, randomGrid, randomGridCapacity } from './random';

describe('expandGrid (pdr_run product order)', () => {
  it('metal outermost, chi fastest, job names from the strings as given', () => {
    const pts = expandGrid({ metal: ['100', '50'], dens: ['30'], mass: ['-10', '00'], chi: ['10', '05'] });
    expect(pts.map((p) => p.jobName)).toEqual([
      '100_30_-10_10_00',
      '100_30_-10_05_00',
      '100_30_00_10_00',
      '100_30_00_05_00',
      '50_30_-10_10_00',
      '50_30_-10_05_00',
      '50_30_00_10_00',
      '50_30_00_05_00',
    ]);
    expect(pts[3]).toEqual({ metal: '100', dens: '30', mass: '00', chi: '05', jobName: '100_30_00_05_00' });
  });

  it('collapses numeric duplicates per axis, keeping the first spelling', () => {
    const { axes, dropped } = normalizeAxes({ metal: ['100'], dens: ['30', '30.0', '20', '30', '+20'], mass: ['00', '-0'], chi: ['10'] });
    expect(axes.dens).toEqual(['30', '20']);
    expect(axes.mass).toEqual(['00']);
    expect(dropped).toEqual([
      { axis: 'dens', value: '30.0', sameAs: '30' },
      { axis: 'dens', value: '30', sameAs: '30' },
      { axis: 'dens', value: '+20', sameAs: '20' },
      { axis: 'mass', value: '-0', sameAs: '00' },
    ]);
    const names = expandGrid({ metal: ['100'], dens: ['30', '30'], mass: ['00'], chi: ['10'] }).map((p) => p.jobName);
    expect(names).toEqual(['100_30_00_10_00']);
  });

  it('rejects bad values and empty axes, naming the axis', () => {
    expect(() => expandGrid({ metal: ['100'], dens: ['3O'], mass: ['00'], chi: ['10'] })).toThrow(/dens.*"3O"/);
    expect(() => expandGrid({ metal: [], dens: ['30'], mass: ['00'], chi: ['10'] })).toThrow(InvalidParameterValue);
    expect(() => expandGrid({ metal: '100', dens: ['30'], mass: ['00'], chi: ['10'] } as never)).toThrow(/metal/);
  });

  it('gridSize and gridPointAt work without materialising 10^5+ points', () => {
    const range = (n: number, off: number) => Array.from({ length: n }, (_, i) => String(i + off));
    const axes = { metal: range(10, 50), dens: range(50, 0), mass: range(40, -20), chi: range(60, -10) };
    expect(gridSize(axes)).toBe(1_200_000);
    const norm = normalizeAxes(axes).axes;
    expect(gridPointAt(norm, 0).jobName).toBe('50_0_-20_-10_00');
    expect(gridPointAt(norm, 1).jobName).toBe('50_0_-20_-9_00');
    expect(gridPointAt(norm, 1_199_999).jobName).toBe('59_49_19_49_00');
    // lazily iterating agrees with random access
    const it = iterateGrid(axes);
    for (let i = 0; i < 200; i++) expect(it.next().value).toEqual(gridPointAt(norm, i));
    expect(() => gridPointAt(norm, 1_200_000)).toThrow(RangeError);
  });

  it('jobNameOf', () => expect(jobNameOf({ metal: '100', dens: '30', mass: '-10', chi: '10' })).toBe('100_30_-10_10_00'));
  it('pointOfJobName reverses jobNameOf and refuses other shapes', () => {
    expect(pointOfJobName('100_30_-10_10_00')).toEqual({ metal: '100', dens: '30', mass: '-10', chi: '10' });
    expect(pointOfJobName('100_30_-10_10_01')).toBeNull();
    expect(pointOfJobName('100_30_-10_00')).toBeNull();
    expect(pointOfJobName('100_3a_-10_10_00')).toBeNull();
  });
});

describe('randomGrid', () => {
  const axes = { metal: ['100'], dens: ['20', '25'], mass: ['-5', '5'], chi: ['00', '03'] };

  it('is deterministic for a seed and differs between seeds', () => {
    const a = randomGrid(axes, 20, 42).map((p) => p.jobName);
    expect(randomGrid(axes, 20, 42).map((p) => p.jobName)).toEqual(a);
    expect(randomGrid(axes, 20, 43).map((p) => p.jobName)).not.toEqual(a);
  });

  it('draws integers within min..max inclusive, single-value axes fixed, formatted as pdr_run', () => {
    const pts = randomGrid(axes, 264, 7); // all 6 · 11 · 4 points
    expect(new Set(pts.map((p) => p.jobName)).size).toBe(264);
    for (const p of pts) {
      expect(p.metal).toBe('100');
      expect(Number(p.dens)).toBeGreaterThanOrEqual(20);
      expect(Number(p.dens)).toBeLessThanOrEqual(25);
      expect(Number(p.mass)).toBeGreaterThanOrEqual(-5);
      expect(Number(p.mass)).toBeLessThanOrEqual(5);
      expect(['00', '01', '02', '03']).toContain(p.chi);
    }
    const masses = new Set(pts.map((p) => p.mass));
    expect(masses).toEqual(new Set(['-05', '-04', '-03', '-02', '-01', '00', '01', '02', '03', '04', '05']));
  });

  it('never repeats a point and errors clearly when n exceeds the distinct points', () => {
    expect(randomGridCapacity(axes)).toBe(264);
    expect(() => randomGrid(axes, 265, 1)).toThrow(/only 264 distinct points/);
    const big = randomGrid({ metal: ['0', '100'], dens: ['0', '80'], mass: ['-30', '30'], chi: ['-20', '60'] }, 5000, 3);
    expect(new Set(big.map((p) => p.jobName)).size).toBe(5000);
  });

  it('rejects non-integer axis values, bad n and bad seeds', () => {
    expect(() => randomGrid({ ...axes, dens: ['20', '25.5'] }, 3, 1)).toThrow(/dens.*"25.5".*integer/);
    expect(() => randomGrid(axes, 0, 1)).toThrow(/random_model_num/);
    expect(() => randomGrid(axes, 2.5, 1)).toThrow(/random_model_num/);
    expect(() => randomGrid(axes, 3, -1)).toThrow(/seed/);
    expect(() => randomGrid(axes, 3, 2 ** 32)).toThrow(/seed/);
  });

  it('newSeed gives uint32 seeds; mulberry32 is a fixed sequence', () => {
    const s = newSeed();
    expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
    // reference: mulberry32(1)() / 2^32 = 0.6270739405881613
    const next = mulberry32(1);
    expect([next(), next(), next()]).toEqual([2693262067, 11749833, 2265367787]);
  });
});

describe('axesOfMode', () => {
  const axes = { metal: ['1', '2'], dens: ['30', '40'], mass: ['0', '1'], chi: ['10', '20'] };
  it('keeps every value of a grid and the first value of each axis in single mode', () => {
    expect(axesOfMode(axes, 'grid')).toBe(axes);
    expect(axesOfMode(axes, 'single')).toEqual({ metal: ['1'], dens: ['30'], mass: ['0'], chi: ['10'] });
  });
});
