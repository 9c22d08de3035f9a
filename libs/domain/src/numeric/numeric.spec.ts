import { bigToDouble, decompose } from './float64';
import { pow10Tenths } from './pow';
import { formatExponential, formatFixed } from './pyformat';

describe('float64 helpers', () => {
  it('decompose is exact', () => {
    for (const x of [1, 0.1, -3.5, 5e-324, 1.7976931348623157e308, 2.4577932483395914e17]) {
      const { mantissa, exponent } = decompose(x);
      expect(bigToDouble(mantissa, exponent)).toBe(Math.abs(x));
    }
  });
  it('bigToDouble rounds half to even and handles subnormals/overflow', () => {
    expect(bigToDouble((1n << 53n) + 1n, 0)).toBe(2 ** 53); // tie → even
    expect(bigToDouble((1n << 53n) + 3n, 0)).toBe(2 ** 53 + 4); // tie → even (up)
    expect(bigToDouble((1n << 53n) + 1n, 0, true)).toBe(2 ** 53 + 2); // sticky breaks the tie upwards
    expect(bigToDouble(3n, -1076)).toBe(5e-324); // 0.75 · 2^-1074 → 2^-1074
    expect(bigToDouble(1n, 1024)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('pow10Tenths', () => {
  it('matches Python (glibc) on values where V8 is one ulp off', () => {
    expect(pow10Tenths(-8)).toBe(0.15848931924611134);
    expect(pow10Tenths(25)).toBe(316.22776601683796);
  });
});

describe('Python %-formatting', () => {
  it.each([
    [1.0005e3, '1.000e+03'], // exact tie 1000.5 → even; JS toExponential gives 1.001e+3
    [8.27485e-3, '8.275e-03'],
    [2.5e-5, '2.500e-05'],
    [-2.5e-5, '-2.500e-05'],
    [0.0, '0.000e+00'],
    [-0.0, '-0.000e+00'],
    [1e100, '1.000e+100'],
    [-1.5e-300, '-1.500e-300'],
    [9.9995, '9.999e+00'], // 9.9995 is stored as 9.99949999…
    [9.9996, '1.000e+01'],
    [2.4577932483395914e17, '2.458e+17'],
    [1e-16, '1.000e-16'],
    [5e-324, '4.941e-324'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
  ])('%%.3e of %d → %s', (x, s) => expect(formatExponential(x, 3)).toBe(s));

  it.each([
    [1.5, '1.500000'],
    [0.1, '0.100000'],
    [-1, '-1.000000'],
    [0.1015625, '0.101562'], // exact tie → even; JS toFixed gives 0.101563
    [-0.1015625, '-0.101562'],
    [999.9999995, '999.999999'], // stored as 999.99999949999…
    [999.99999951, '1000.000000'],
    [-0.0, '-0.000000'],
    [-1e-9, '-0.000000'],
    [123456789.125, '123456789.125000'],
  ])('%%.6f of %d → %s', (x, s) => expect(formatFixed(x, 6)).toBe(s));

  it('precision 0', () => {
    expect(formatExponential(2.5, 0)).toBe('2e+00');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(3.5, 0)).toBe('4');
  });
});
