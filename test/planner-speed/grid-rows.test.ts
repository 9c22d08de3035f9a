/**
 * The per-grid fast path of planning (GridRows, parameterHasher, the SQL literals state sends) gives
 * exactly the rows, hashes and SQL values of the per-point path (buildParameterRow, parameterHash,
 * MikroORM's placeholder formatting): existing databases identify points by these hashes.
 */
import { MySqlPlatform } from '@mikro-orm/mysql';
import {
  buildParameterRow,
  BuildParameterRowInput,
  gridRows,
  iterateGrid,
  KOSMATAU_PARAMETER_NAMES,
  parameterHash,
  parameterHasher,
  ParameterRow,
  PDR_RUN_NON_DEFAULT_PARAMETERS,
  POINT_COLUMNS,
  PointStrings,
  randomGrid,
} from '@pdr/domain';
import { literalList, sqlLiteral } from '@pdr/persistence';

type GridInput = Omit<BuildParameterRowInput, 'point'>;

const GRIDS: [string, GridInput][] = [
  ['all defaults', {}],
  ['alpha, rcore, chemistry string with odd spacing', { alpha: 2, rcore: 0.05, chemistry: '  H+ H2\tCO  C+ 13CO ' }],
  ['chemistry list and non-default overrides (float, int, string)', { chemistry: ['H', 'CO', "C'?"], nonDefault: { ihdfout: 4, tgasc: '1e2', fuvstring: 'Draine' } }],
  ['pdr_run built-in non-defaults', { nonDefault: PDR_RUN_NON_DEFAULT_PARAMETERS }],
  ['negative zero override', { nonDefault: { preshh2: -0 } }],
];

const axes = { metal: ['100', '30', '0'], dens: ['30', '55', '7.5', '-10'], mass: ['-10', '0', '25', '60'], chi: ['0', '10', '37', '60'] };
const POINTS: PointStrings[] = [...iterateGrid(axes), ...randomGrid({ metal: ['0', '100'], dens: ['30', '70'], mass: ['-20', '40'], chi: ['0', '60'] }, 300, 7)];

describe.each(GRIDS)('grid with %s', (_label, grid) => {
  const rows = gridRows(grid);
  const hasher = parameterHasher(rows.base, POINT_COLUMNS);

  it('every point: the same row (values and column order) and the same hash as the per-point path', () => {
    expect(POINTS.length).toBe(3 * 4 * 4 * 4 + 300);
    for (const point of POINTS) {
      const expected = buildParameterRow({ point, ...grid });
      const values = rows.pointValues(point);
      const row: ParameterRow = { ...rows.base, ...values };
      expect(Object.entries(row)).toEqual(Object.entries(expected));
      expect(Object.is(row.preshh2, -0)).toBe(false);
      expect(hasher(values)).toBe(parameterHash(expected));
    }
  });

  it('the SQL literal of every column equals what MikroORM formats for a bound value', () => {
    const platform = new MySqlPlatform();
    for (const point of POINTS.slice(0, 50)) {
      const row = buildParameterRow({ point, ...grid });
      for (const c of KOSMATAU_PARAMETER_NAMES) expect(sqlLiteral(row[c] ?? null)).toBe(platform.formatQuery('?', [row[c] ?? null]));
    }
  });
});

it('a changed point value changes the hash (the hasher does not hash the base only)', () => {
  const rows = gridRows({});
  const hasher = parameterHasher(rows.base, POINT_COLUMNS);
  const values = rows.pointValues({ metal: '100', dens: '30', mass: '0', chi: '10' });
  const hashes = new Set(POINT_COLUMNS.map((c) => hasher({ ...values, [c]: values[c] * 2 + 1 })));
  hashes.add(hasher(values));
  expect(hashes.size).toBe(POINT_COLUMNS.length + 1);
});

it('bad points and bad grid inputs fail with the per-point path messages', () => {
  const rows = gridRows({});
  for (const point of [
    { metal: 'x', dens: '30', mass: '0', chi: '10' },
    { metal: '100', dens: '3.0.0', mass: '0', chi: '10' },
    { metal: '100', dens: '30', mass: '', chi: '10' },
    { metal: '100', dens: '30', mass: '0', chi: '1e999' },
  ]) {
    expect(() => rows.pointValues(point)).toThrow();
    let message = '';
    try {
      rows.pointValues(point);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(() => buildParameterRow({ point })).toThrow(message);
  }
  expect(() => gridRows({ nonDefault: { nosuch: 1 } })).toThrow(/unknown physics parameter "nosuch"/);
  expect(() => gridRows({ nonDefault: { rtot: 1 } })).toThrow(/cannot be set/);
  expect(() => gridRows({ chemistry: '  ' })).toThrow(/no species/);
});

it('parameterHasher rejects unknown columns and rows missing a fixed column', () => {
  const { base } = gridRows({});
  expect(() => parameterHasher(base, ['nosuch'])).toThrow(/not a kosmatau_parameters column/);
  const { sigd: _sigd, ...partial } = base;
  expect(() => parameterHasher(partial, POINT_COLUMNS)).toThrow(/sigd/);
  expect(() => parameterHasher({ ...base, extra: 1 }, POINT_COLUMNS)).toThrow(/extra/);
});

it('sqlLiteral refuses values without an SQL literal; literalList refuses an empty list', () => {
  for (const v of [NaN, Infinity, -Infinity]) expect(() => sqlLiteral(v)).toThrow(/not a finite number/);
  expect(() => sqlLiteral(undefined as unknown as null)).toThrow(/unsupported value/);
  expect(() => sqlLiteral({} as unknown as null)).toThrow(/unsupported value/);
  expect(() => literalList([])).toThrow(/empty list/);
  expect(literalList([1, "a'b", 'c\\d'])).toBe("1, 'a\\'b', 'c\\\\d'");
  expect(sqlLiteral(-0)).toBe('0');
});
