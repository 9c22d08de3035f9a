import { buildParameterRow } from '../parameters/row';
import { formatScientific, RENDER_KEY_ORDER, renderPdrConfigJson, renderPdrnew } from './render';

describe('formatScientific (pdr_run format_scientific, outputs printed by Python)', () => {
  it.each([
    [true, undefined, 'True'],
    [false, undefined, 'False'],
    [null, undefined, 'None'],
    [1000, 'int', '1000'],
    [-5, 'int', '-5'],
    [1000, 'float', '1.000e+03'],
    [1000, undefined, '1.000e+03'],
    [999.9999, 'float', '999.999900'],
    [0.1, 'float', '0.100000'],
    [0.09999, 'float', '9.999e-02'],
    [-0.0, 'float', '-0.000e+00'],
    [-1.0, 'float', '-1.000000'],
    [1.9e-21, 'float', '1.900e-21'],
    [2e4, 'float', '2.000e+04'],
    [1234.5, 'float', '1.234e+03'],
    [0.0078125, 'float', '7.812e-03'],
    [1.0005e3, 'float', '1.000e+03'],
    ['Lyalpha.fuv', 'string', 'Lyalpha.fuv'],
  ] as const)('%p (%s) → %s', (value, kind, expected) => {
    expect(formatScientific(value, kind)).toBe(expected);
  });
  it('big Python ints', () => expect(formatScientific(10n ** 25n)).toBe('10000000000000000000000000'));
  it('int kind requires an integer', () => expect(() => formatScientific(1.5, 'int')).toThrow(RangeError));
});

describe('renderPdrnew / renderPdrConfigJson', () => {
  const row = buildParameterRow({ point: { metal: '100', dens: '30', mass: '-10', chi: '10' }, chemistry: 'CO  C+\tC ' });

  it('species → SPECIES lines / JSON array; grid → flag; unknown placeholders stay', () => {
    const t = 'A KT_VARxnsur_ B KT_VARNiter_\nKT_VARspecies_\nKT_VARgrid_|KT_VARnope_|KT_VARfuvstring_';
    expect(renderPdrnew(t, row)).toBe('A 1.000e+03 B 60\nSPECIES  CO\nSPECIES  C+\nSPECIES  C\n|KT_VARnope_|Lyalpha.fuv');
    const g = { ...row, grid: 1 };
    expect(renderPdrnew('KT_VARgrid_', g)).toBe('*MODEL GRID');
    expect(renderPdrConfigJson('[KT_VARgrid_, KT_VARspecies_, "KT_VARCHEM_DATABASE_FILE_"]', g, { chemDatabaseFile: 'chem.dat' })).toBe(
      '[true, ["CO", "C+", "C"], "chem.dat"]',
    );
    expect(renderPdrConfigJson('KT_VARgrid_', row, { chemDatabaseFile: 'x' })).toBe('false');
  });

  it('replaces every occurrence, in pdr_run key order (a value may contain a later placeholder)', () => {
    expect(renderPdrnew('KT_VARalpha_ KT_VARalpha_', row)).toBe('1.500000 1.500000');
    // fuvstring is substituted before grid (declaration order), so its text is substituted again:
    const tricky = { ...row, fuvstring: 'KT_VARgrid_' };
    expect(renderPdrnew('KT_VARfuvstring_', tricky)).toBe('');
    // ... but not the other way round
    expect(RENDER_KEY_ORDER.indexOf('fuvstring')).toBeLessThan(RENDER_KEY_ORDER.indexOf('grid'));
    expect(renderPdrnew('KT_VARgrid_', { ...row, grid: 0, fuvstring: 'x' })).toBe('');
  });

  it('pdr_run bookkeeping keys are substituted when present (None for null comments)', () => {
    expect(renderPdrnew('KT_VARcomments_ KT_VARid_', { ...row, comments: null, id: 12 })).toBe('None 12');
    expect(renderPdrnew('KT_VARcomments_', row)).toBe('KT_VARcomments_');
  });

  it('d2gratio1 does not clobber d2gratio10 (placeholders end with "_")', () => {
    const r = { ...row, d2gratio1: 0.5, d2gratio10: 0.25 };
    expect(renderPdrnew('KT_VARd2gratio1_,KT_VARd2gratio10_', r)).toBe('0.500000,0.250000');
  });
});
