import {
  intToLogString,
  InvalidParameterValue,
  logStringToValue,
  metalToZmetal,
  parseEncodedNumber,
  valueToLogString,
} from './encoding';

describe('parseEncodedNumber (strict grammar, never eval)', () => {
  it.each([
    ['00', 0],
    ['-10', -10],
    ['3.5', 3.5],
    ['05', 5],
    ['-05', -5],
    ['100', 100],
    ['+5', 5],
    ['3.', 3],
    ['.5', 0.5],
    ['1e2', 100],
    ['-2.5E-1', -0.25],
  ])('accepts %j → %d', (text, value) => expect(parseEncodedNumber('dens', text)).toBe(value));

  it.each(['1e2x', '__import__("os")', '', 'NaN', 'Infinity', '-Infinity', '   ', ' 30', '30 ', '0x10', '1_000', '2*3', '--5', '+-5', '.', 'e5', '1e', '1e400'])(
    'rejects %j with InvalidParameterValue naming axis and value',
    (text) => {
      let err: unknown;
      try {
        parseEncodedNumber('dens', text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidParameterValue);
      const e = err as InvalidParameterValue;
      expect(e.axis).toBe('dens');
      expect(e.value).toBe(text);
      expect(e.message).toContain('dens');
      expect(e.message).toContain(JSON.stringify(text));
    },
  );

  it('integer literals have no negative zero (Python int), float literals keep it', () => {
    expect(Object.is(parseEncodedNumber('metal', '-0'), 0)).toBe(true);
    expect(Object.is(parseEncodedNumber('metal', '-0.0'), -0)).toBe(true);
    expect(Object.is(metalToZmetal('-0'), 0)).toBe(true);
  });

  it('rejects non-strings', () => {
    expect(() => parseEncodedNumber('mass', 30 as unknown as string)).toThrow(InvalidParameterValue);
    expect(() => parseEncodedNumber('mass', null as unknown as string)).toThrow(/mass/);
  });
});

describe('metalToZmetal', () => {
  it('is v * 0.01', () => {
    expect(metalToZmetal('100')).toBe(1.0);
    expect(metalToZmetal('50')).toBe(0.5);
    expect(metalToZmetal('00')).toBe(0);
    expect(metalToZmetal('33')).toBe(0.33); // 33 * 0.01 in Python is 0.33
  });
  it('rejects negative metallicity', () => expect(() => metalToZmetal('-10')).toThrow(/metal/));
});

describe('logStringToValue = Python 10 ** (0.1 * v), bit for bit', () => {
  // Expected values printed by CPython 3.11 (glibc pow). Several differ from V8's 10 ** x by one ulp.
  it.each([
    ['30', 1000.0],
    ['-10', 0.1],
    ['10', 10.0],
    ['00', 1],
    ['17', 50.11872336272725],
    ['55', 316227.7660168379],
    ['3.0', 1.9952623149688797],
    ['-8', 0.15848931924611134], // V8: 0.15848931924611132
    ['25', 316.22776601683796], // V8: 316.2277660168379
    ['28', 630.9573444801937], // V8: 630.9573444801936
    ['35', 3162.2776601683795], // V8: 3162.277660168379
  ])('%s → %d', (text, expected) => expect(logStringToValue(text)).toBe(expected));

  it('caches without changing results', () => {
    expect(logStringToValue('-8')).toBe(logStringToValue('-8'));
  });

  it('rejects overflow / underflow', () => {
    expect(() => logStringToValue('3090', 'dens')).toThrow(/dens.*out of range/);
    expect(() => logStringToValue('-3300', 'chi')).toThrow(/chi/);
  });
});

describe('valueToLogString (pdr_run from_par_to_string)', () => {
  it.each([
    [1e5, '50'],
    [1000, '30'],
    [0.1, '-10'],
    [1, '00'],
    [10 ** 0.45, '4'], // Python round(4.5) = 4 (ties to even); no zero padding, as pdr_run
    [10 ** 0.35, '4'], // round(3.5) = 4
    [50.11872336272725, '17'],
  ])('%d → %s', (x, s) => expect(valueToLogString(x)).toBe(s));
  it('round-trips grid strings', () => {
    for (const s of ['-20', '-10', '15', '20', '35', '55', '40']) expect(valueToLogString(logStringToValue(s))).toBe(s);
  });
  it('rejects non-positive values instead of the "-99" sentinel', () => {
    expect(() => valueToLogString(0, 'xnsur')).toThrow(/xnsur/);
    expect(() => valueToLogString(-1)).toThrow(InvalidParameterValue);
    expect(() => valueToLogString(Number.NaN)).toThrow(InvalidParameterValue);
  });
});

describe('intToLogString (random mode)', () => {
  it.each([
    [-5, '-05'],
    [5, '05'],
    [0, '00'],
    [-0, '00'],
    [9, '09'],
    [-9, '-09'],
    [10, '10'],
    [-10, '-10'],
    [123, '123'],
  ])('%d → %s', (n, s) => expect(intToLogString(n)).toBe(s));
  it('rejects non-integers', () => expect(() => intToLogString(1.5, 'mass')).toThrow(/mass/));
  it('round-trips through the parser', () => {
    for (let n = -30; n <= 30; n++) expect(parseEncodedNumber('x', intToLogString(n))).toBe(n);
  });
});
