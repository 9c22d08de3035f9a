import { InvalidParameterValue } from '../encoding/encoding';
import { DEFAULT_CHEMISTRY, KOSMATAU_PARAMETER_NAMES, PDR_RUN_NON_DEFAULT_PARAMETERS } from './columns';
import { buildParameterRow, checkNonDefaultParameters, UnknownParameterError } from './row';
import { canonicalParameterJson, parameterHash } from './hash';

const point = { metal: '100', dens: '30', mass: '-10', chi: '10' };

describe('buildParameterRow', () => {
  it('defaults: every column, declaration order, point values, rtot, chemistry', () => {
    const row = buildParameterRow({ point });
    expect(Object.keys(row)).toEqual(KOSMATAU_PARAMETER_NAMES);
    expect(row).toMatchObject({
      zmetal: 1,
      xnsur: 1000,
      mass: 0.1,
      sint: 10,
      alpha: 1.5,
      rcore: 0.2,
      rtot: 2.4577932483395914e17,
      species: DEFAULT_CHEMISTRY,
      cosray: 2e-16, // column default: pdr_run's built-in non-defaults are not applied implicitly
      beta: -1,
      ih2meth: 1,
      fuvstring: 'Lyalpha.fuv',
      Niter: 60,
    });
    expect(Object.isFrozen(row)).toBe(true);
  });

  it('applies alpha/rcore/chemistry and non-default overrides', () => {
    const row = buildParameterRow({
      point,
      alpha: 0,
      rcore: 0.3,
      chemistry: ['CO', 'C+', 'C'],
      nonDefault: { cosray: 1e-16, Niter: 80, fuvstring: 'Draine.fuv', grid: 1, tgasc: '75.0' },
    });
    expect(row).toMatchObject({ alpha: 0, rcore: 0.3, species: 'CO C+ C', cosray: 1e-16, Niter: 80, fuvstring: 'Draine.fuv', grid: 1, tgasc: 75 });
    expect(row.rtot).toBe(3.049757920168306e17); // computed with alpha 0 (pdr_run's value)
  });

  it('opting in to pdr_run built-in non-defaults', () => {
    const row = buildParameterRow({ point, nonDefault: PDR_RUN_NON_DEFAULT_PARAMETERS });
    expect(row.cosray).toBe(1e-16);
    expect(row.beta).toBe(1e5);
    expect(row.ih2meth).toBe(0);
  });

  it('unknown key → error naming the key and the nearest column', () => {
    expect(() => buildParameterRow({ point, nonDefault: { cosrai: 1e-16 } })).toThrow(UnknownParameterError);
    expect(() => buildParameterRow({ point, nonDefault: { cosrai: 1e-16 } })).toThrow(/"cosrai".*did you mean "cosray"/);
    expect(() => buildParameterRow({ point, nonDefault: { niter: 80 } })).toThrow(/did you mean "Niter"/);
    expect(() => buildParameterRow({ point, nonDefault: { temperature: 80 } })).toThrow(/"temperature".*not a kosmatau_parameters column/);
  });

  it('type checks values', () => {
    expect(() => buildParameterRow({ point, nonDefault: { Niter: 1.5 } })).toThrow(/Niter.*integer/);
    expect(() => buildParameterRow({ point, nonDefault: { cosray: 'fast' } })).toThrow(InvalidParameterValue);
    expect(() => buildParameterRow({ point, nonDefault: { cosray: Number.NaN } })).toThrow(/cosray/);
    expect(() => buildParameterRow({ point, nonDefault: { cosray: true } })).toThrow(/cosray/);
    expect(() => buildParameterRow({ point, nonDefault: { fuvstring: 3 } })).toThrow(/fuvstring/);
    expect(() => buildParameterRow({ point, nonDefault: { fuvstring: 'a"b' } })).toThrow(/fuvstring.*quotes/);
    expect(() => buildParameterRow({ point, nonDefault: { fuvstring: 'x'.repeat(51) } })).toThrow(/50 characters/);
    expect(checkNonDefaultParameters({ Niter: 3.0, ihdfout: '2' })).toEqual({ Niter: 3, ihdfout: 2 });
  });

  it('derived columns cannot be overridden', () => {
    for (const k of ['xnsur', 'mass', 'sint', 'zmetal', 'rtot', 'alpha', 'rcore', 'species']) {
      expect(() => buildParameterRow({ point, nonDefault: { [k]: 1 } })).toThrow(new RegExp(`${k}.*cannot be set`));
    }
  });

  it('bad points, geometry and chemistry are errors', () => {
    expect(() => buildParameterRow({ point: { ...point, dens: '__import__' } })).toThrow(/dens/);
    expect(() => buildParameterRow({ point, alpha: 3 })).toThrow(/alpha/);
    expect(() => buildParameterRow({ point, chemistry: '   ' })).toThrow(/chemistry.*no species/);
    expect(() => buildParameterRow({ point, chemistry: ['CO', 'C"'] })).toThrow(/chemistry/);
    expect(() => buildParameterRow({ point, nonDefault: [1] as never })).toThrow(/non_default_parameters/);
  });
});

describe('parameterHash', () => {
  const row = buildParameterRow({ point });

  it('stable test vectors', () => {
    expect(parameterHash(row)).toBe(HASH_DEFAULT);
    expect(parameterHash(buildParameterRow({ point: { metal: '50', dens: '35', mass: '15', chi: '17' }, alpha: 0, rcore: 0.3, nonDefault: { Niter: 80, fuvstring: 'Draine.fuv' } }))).toBe(HASH_OTHER);
  });

  it('canonical JSON: sorted keys, shortest round-trip numbers, species whitespace collapsed', () => {
    const json = canonicalParameterJson(row);
    expect(json.startsWith('{"Niter":60,"Xhtry":1000000,"alfven_column":400000000000000000000,')).toBe(true);
    expect(json).toContain('"rtot":245779324833959140,');
    expect(json).toContain('"cosray":2e-16,');
    expect(json).toContain('"species":"HE+ HE H+ H2+ H3+ C CH C+ CH+ CH2+ CH2 CH3+ CH3 CH4+');
    expect(JSON.parse(json).xnsur).toBe(1000);
  });

  it('ignores ids/comments and key order, not values', () => {
    const reordered = Object.fromEntries(Object.entries(row).reverse());
    expect(parameterHash({ ...reordered, id: 7, model_name_id: 3, comments: 'x' })).toBe(HASH_DEFAULT);
    expect(parameterHash({ ...row, species: ` ${DEFAULT_CHEMISTRY.replace(/ +/g, '  ')}` })).toBe(HASH_DEFAULT);
    expect(parameterHash({ ...row, cosray: 1e-16 })).not.toBe(HASH_DEFAULT);
    expect(parameterHash({ ...row, rtot: (row.rtot as number) * (1 + Number.EPSILON) })).not.toBe(HASH_DEFAULT);
  });

  it('rejects incomplete rows and unknown keys', () => {
    const { grid: _g, ...partial } = row;
    expect(() => parameterHash(partial)).toThrow(/grid/);
    expect(() => parameterHash({ ...row, bogus: 1 })).toThrow(/bogus/);
    expect(() => parameterHash({ ...row, Niter: 1.5 })).toThrow(/Niter/);
  });
});

const HASH_DEFAULT = '85c5ebe08d594562e0f5cbc2259620c390d9d0116941118ae8f81f74faa3d313';
const HASH_OTHER = '753461087fba3a28ed4ad4b69b03bd7d2fd51551de489d1d7024354dd74e1b4b';
