/**
 * Python's `'%.{p}e' % x` and `'%.{p}f' % x` for doubles, exactly: the decimal digits are the exact
 * binary value rounded half-to-even (JS toExponential/toFixed round ties away from zero, e.g.
 * (1000.5).toExponential(3) = "1.001e+3" but Python gives "1.000e+03").
 */
import { decompose } from './float64';

/** x = num / den exactly (num ≥ 0). */
function exactRational(x: number): { num: bigint; den: bigint } {
  const { mantissa, exponent } = decompose(Math.abs(x));
  return exponent >= 0 ? { num: mantissa << BigInt(exponent), den: 1n } : { num: mantissa, den: 1n << BigInt(-exponent) };
}

/** round(num/den) with ties to even. */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = (num - q * den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function pow10(k: number): bigint {
  return 10n ** BigInt(k);
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  return undefined;
}

function signOf(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Python `'%.{precision}e' % x`. */
export function formatExponential(x: number, precision: number): string {
  const s = special(x);
  if (s !== undefined) return s;
  if (!Number.isInteger(precision) || precision < 0 || precision > 100) throw new RangeError(`precision ${precision}`);
  const sign = signOf(x);
  let digits: bigint;
  let exp10: number;
  if (x === 0) {
    digits = 0n;
    exp10 = 0;
  } else {
    const { num, den } = exactRational(x);
    exp10 = Math.floor(Math.log10(Math.abs(x)));
    // fix the estimate so that 10^exp10 ≤ |x| < 10^(exp10+1)
    const ge = (e: number) => (e >= 0 ? num >= pow10(e) * den : num * pow10(-e) >= den);
    while (!ge(exp10)) exp10 -= 1;
    while (ge(exp10 + 1)) exp10 += 1;
    const shift = precision - exp10;
    digits = shift >= 0 ? divRoundHalfEven(num * pow10(shift), den) : divRoundHalfEven(num, den * pow10(-shift));
    if (digits === pow10(precision + 1)) {
      digits = pow10(precision);
      exp10 += 1;
    }
  }
  const text = digits.toString().padStart(precision + 1, '0');
  const mant = precision > 0 ? `${text[0]}.${text.slice(1)}` : text;
  const e = Math.abs(exp10).toString().padStart(2, '0');
  return `${sign}${mant}e${exp10 < 0 ? '-' : '+'}${e}`;
}

/** Python `'%.{precision}f' % x`. */
export function formatFixed(x: number, precision: number): string {
  const s = special(x);
  if (s !== undefined) return s;
  if (!Number.isInteger(precision) || precision < 0 || precision > 100) throw new RangeError(`precision ${precision}`);
  const sign = signOf(x);
  let digits = 0n;
  if (x !== 0) {
    const { num, den } = exactRational(x);
    digits = divRoundHalfEven(num * pow10(precision), den);
  }
  const text = digits.toString().padStart(precision + 1, '0');
  const body = precision > 0 ? `${text.slice(0, text.length - precision)}.${text.slice(text.length - precision)}` : text;
  return `${sign}${body}`;
}
