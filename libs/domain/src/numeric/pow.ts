/**
 * Powers as pdr_run computes them.
 *
 * pdr_run computes `10 ** (0.1 * v)` and `(M / D) ** (1/3)` with CPython, i.e. glibc's pow. V8's `**`
 * differs from it in the last bit for many inputs (10 ** -0.8, 10 ** 2.5, …), and even the correctly
 * rounded result differs from glibc in ~0.1 % of cases (glibc is accurate to ~0.52 ulp). Rows must
 * equal pdr_run's bit for bit, so the domain code uses `glibcPow` (numeric/glibc-pow.ts), verified
 * against 337 000 CPython results. `powCorrect` (correctly rounded, BigInt) is kept as a reference.
 */
import { bigToDouble, decompose } from './float64';
import { glibcPow } from './glibc-pow';

const FRAC = 320;
const FRAC_N = BigInt(FRAC);
const ONE = 1n << FRAC_N;

/** atanh(p/q) · 2^FRAC for 0 ≤ p/q ≤ 1/3 (Taylor series). */
function atanhFixed(p: bigint, q: bigint): bigint {
  if (p === 0n) return 0n;
  const t = (p << FRAC_N) / q;
  const t2 = (t * t) >> FRAC_N;
  let power = t;
  let sum = 0n;
  for (let k = 1n; power !== 0n; k += 2n) {
    sum += power / k;
    power = (power * t2) >> FRAC_N;
  }
  return sum;
}

const LN2 = 2n * atanhFixed(1n, 3n);

/** ln(x) · 2^FRAC for finite x > 0. */
function lnFixed(x: number): bigint {
  const { mantissa, exponent } = decompose(x);
  // normalise mantissa to [2^52, 2^53) so that m = mantissa / 2^52 ∈ [1, 2)
  let m = mantissa;
  let e = exponent + 52;
  while (m < 1n << 52n) {
    m <<= 1n;
    e -= 1;
  }
  const p = m - (1n << 52n);
  const q = m + (1n << 52n);
  return BigInt(e) * LN2 + 2n * atanhFixed(p, q);
}

/** exp(r) · 2^FRAC for |r| ≤ 0.35 (r given · 2^FRAC). */
function expSmallFixed(r: bigint): bigint {
  let term = ONE;
  let sum = ONE;
  for (let k = 1n; term !== 0n; k += 1n) {
    term = (term * r) / (k << FRAC_N);
    sum += term;
  }
  return sum;
}

/** Correctly rounded x ** y (x > 0 finite, y finite). Throws RangeError otherwise. */
export function powCorrect(x: number, y: number): number {
  if (!(x > 0) || !Number.isFinite(x) || !Number.isFinite(y)) {
    throw new RangeError(`powCorrect: need finite x > 0 and finite y, got x=${x}, y=${y}`);
  }
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  const { mantissa: ym, exponent: ye } = decompose(Math.abs(y));
  let l = lnFixed(x) * ym; // · 2^ye
  l = ye >= 0 ? l << BigInt(ye) : l >> BigInt(-ye);
  if (y < 0) l = -l;
  // exp(l) = 2^k · exp(r) with r = l − k·ln2, |r| ≤ ln2/2
  const kBig = (l + LN2 / 2n) / LN2 - (l + LN2 / 2n < 0n && (l + LN2 / 2n) % LN2 !== 0n ? 1n : 0n);
  if (kBig > 1100n) return Number.POSITIVE_INFINITY;
  if (kBig < -1200n) return 0;
  const r = l - kBig * LN2;
  const e = expSmallFixed(r);
  return bigToDouble(e, Number(kBig) - FRAC, true);
}

/** pdr_run's `10 ** (0.1 * v)` reproduced bit for bit (0.1·v is the same double as in Python). */
export function pow10Tenths(v: number): number {
  return glibcPow(10, 0.1 * v);
}

/** pdr_run's `x ** y` for finite x > 0 (CPython float pow = glibc pow). */
export function pythonPow(x: number, y: number): number {
  return glibcPow(x, y);
}
