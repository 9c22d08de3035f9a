import { buildParameterRow } from './row';
import { pointOfJobName } from '../grid/grid';
import { legacyParameterIdentity, sameFloat } from './legacy';
import { parameterHash } from './hash';

/** What MariaDB keeps of a double in a FLOAT column, and what it shows of it (6 significant digits). */
const asFloat = (v: number) => Math.fround(v);
const asDumped = (v: number) => Math.fround(Number(v.toPrecision(6)));

function stored(row: Record<string, unknown>, f: (v: number) => number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? f(v) : v]));
}

describe('legacyParameterIdentity', () => {
  const point = { metal: '100', dens: '20', mass: '-10', chi: '10' };
  const row = buildParameterRow({ point, nonDefault: { tgasc: 12.3456 } });
  const hash = parameterHash(row);

  it.each([
    ['a FLOAT column', asFloat],
    ['a FLOAT column read back from a dump (6 digits)', asDumped],
    ['a double (SQLite)', (v: number) => v],
  ])('recomputes the hash of this project for the same point from %s', (_what, f) => {
    const id = legacyParameterIdentity(stored(row, f), ['100_20_-10_10_00']);
    expect(id.source).toBe('job-name');
    expect(id.hash).toBe(hash);
    expect(id.row).toEqual(row);
  });

  it('re-encodes the grid strings from the values when no job name fits', () => {
    const id = legacyParameterIdentity(stored(row, asFloat), [null, 'not_a_job', '100_30_-10_10_00']);
    expect(id.source).toBe('values');
    expect(id.hash).toBe(hash);
  });

  it('keeps stored values that match no grid point (a different point is never matched)', () => {
    const other = { ...stored(row, asFloat), xnsur: asFloat(123.4) };
    const id = legacyParameterIdentity(other, ['100_20_-10_10_00']);
    expect(id.source).toBe('stored');
    expect(id.hash).not.toBe(hash);
    expect(id.row.xnsur).toBe(123.4);
  });

  it('sameFloat: within 1e-5 relative, never across grid steps', () => {
    expect(sameFloat(Math.fround(0.2), 0.2)).toBe(true);
    expect(sameFloat(100, 10 ** 2.1)).toBe(false);
    expect(pointOfJobName('100_20_00_00_00')).toEqual({ metal: '100', dens: '20', mass: '00', chi: '00' });
    expect(pointOfJobName('100_20_00_00')).toBeNull();
  });
});
