/**
 * Bit-exact reproduction of glibc's (≥ 2.28) double-precision pow on x86-64, which is what CPython's
 * `x ** y` calls — and therefore what pdr_run's `10 ** (0.1 * v)` and `(M / D) ** (1/3)` produce.
 *
 * glibc's pow (Szabolcs Nagy's algorithm, from Arm optimized-routines, MIT licensed) is accurate to
 * ~0.52 ulp but NOT correctly rounded, and V8's `**` differs from it in the last bit far more often.
 * This is an independent TypeScript implementation of the same published algorithm:
 *   log(x) = k·ln2 + log(c) + log1p(z/c − 1)  with a 128-entry table and a degree-8 polynomial,
 *   exp(y·log x) = 2^(k/128) · exp(r)          with a 128-entry table and a degree-5 polynomial,
 * in double-double arithmetic, using FMA (x86-64 glibc selects its FMA build on CPUs with FMA; the
 * compiler also contracts a·b + c into FMAs there). FMA is emulated exactly with BigInt.
 * The two tables are computed here from their documented definitions (checked to equal glibc's):
 *   log: c near the centre of sub-interval i of [0x1.69555p-1, 0x1.69555p0), 1/c = round(N/centre)/N
 *        (or round(2N/centre)/2N above 1), logc = round(2^43·log c)/2^43, logctail = log c − logc;
 *   exp: H = 2^(i/N) rounded, T = 2^(i/N)/H − 1, stored as asuint64(T), asuint64(H) − (i << 45).
 * The polynomial coefficients and split constants are the published minimax values.
 * Only positive finite x and finite y are supported (all pdr_run needs).
 */
import { bigToDouble, decompose } from './float64';

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const MASK64 = (1n << 64n) - 1n;

function asU64(x: number): bigint {
  F64[0] = x;
  return U64[0];
}
function asF64(u: bigint): number {
  U64[0] = u & MASK64;
  return F64[0];
}
function hex(s: string): number {
  // hexadecimal floating literal "±0x1.hhhhp±e"
  const m = /^(-?)0x([01])\.([0-9a-f]*)p([+-]\d+)$/.exec(s);
  if (!m) throw new Error(`bad hex float ${s}`);
  const frac = m[3] === '' ? 0 : parseInt(m[3], 16) / 16 ** m[3].length;
  return (m[1] ? -1 : 1) * (Number(m[2]) + frac) * 2 ** Number(m[4]);
}

const SPLITTER = 2 ** 27 + 1;

/** Exact fused multiply-add via BigInt: a·b + c rounded once (round to nearest, ties to even). */
export function fmaExact(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return a * b + c;
  if (a === 0 || b === 0) return a * b + c;
  const pa = decompose(a);
  const pb = decompose(b);
  const pSign = (a < 0) !== (b < 0) ? -1n : 1n;
  const pMant = pa.mantissa * pb.mantissa * pSign;
  const pExp = pa.exponent + pb.exponent;
  if (c === 0) {
    const r = bigToDouble(pMant < 0n ? -pMant : pMant, pExp);
    return pMant < 0n ? -r : r;
  }
  const pc = decompose(c);
  const cMant = c < 0 ? -pc.mantissa : pc.mantissa;
  const e = Math.min(pExp, pc.exponent);
  const sum = (pMant << BigInt(pExp - e)) + (cMant << BigInt(pc.exponent - e));
  if (sum === 0n) return 0;
  const r = bigToDouble(sum < 0n ? -sum : sum, e);
  return sum < 0n ? -r : r;
}

/**
 * Fused multiply-add a·b + c with a single rounding. Fast path with error-free transformations
 * (Dekker's product, Knuth's two-sum): when the two error terms add exactly, one final addition
 * rounds the exact value once. Otherwise (and near overflow/underflow) the exact BigInt path.
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  const ap = Math.abs(p);
  if (!(ap > 2 ** -900 && ap < 2 ** 900) || !(Math.abs(c) < 2 ** 1000) || !(Math.abs(a) < 2 ** 995) || !(Math.abs(b) < 2 ** 995)) {
    return fmaExact(a, b, c);
  }
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const e = al * bl - (((p - ah * bh) - al * bh) - ah * bl); // a·b = p + e exactly
  const s = p + c;
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb); // p + c = s + err exactly
  const u = err + e;
  const z = u - err;
  if ((err - (u - z)) + (e - z) !== 0) return fmaExact(a, b, c);
  return s + u; // s + u is the exact a·b + c: one rounding
}

// ---------------------------------------------------------------------------------------------
// Constants (published minimax coefficients of the algorithm; A scaled as used in evaluation)
const LN2HI = hex('0x1.62e42fefa3800p-1');
const LN2LO = hex('0x1.ef35793c76730p-45');
const A = [
  hex('-0x1.0000000000000p-1'),
  hex('-0x1.5555555555560p-1'),
  hex('0x1.0000000000006p-1'),
  hex('0x1.999999959554ep-1'),
  hex('-0x1.555555529a47ap-1'),
  hex('-0x1.2495b9b4845e9p+0'),
  hex('0x1.0002b8b263fc3p+0'),
];
const INV_LN2_N = hex('0x1.71547652b82fep+7');
const NEG_LN2HI_N = hex('-0x1.62e42fefa0000p-8');
const NEG_LN2LO_N = hex('-0x1.cf79abc9e3b3ap-47');
const SHIFT = hex('0x1.8000000000000p+52');
const C2 = hex('0x1.ffffffffffdbdp-2');
const C3 = hex('0x1.555555555543cp-3');
const C4 = hex('0x1.55555cf172b91p-5');
const C5 = hex('0x1.1111167a4d017p-7');
const OFF = 0x3fe6955500000000n;
const N = 128;

// ---------------------------------------------------------------------------------------------
// Tables, computed once on first use from their definitions with 320-bit BigInt fixed point.
const FRAC = 320n;
const ONE = 1n << FRAC;

function atanhFixed(p: bigint, q: bigint): bigint {
  const t = (p << FRAC) / q;
  const t2 = (t * t) >> FRAC;
  let power = t;
  let sum = 0n;
  for (let k = 1n; power !== 0n; k += 2n) {
    sum += power / k;
    power = (power * t2) >> FRAC;
  }
  return sum;
}
/** ln(num/den) · 2^FRAC for a positive rational, via ln = 2·atanh((q−1)/(q+1)) after scaling by 2^k. */
function lnRationalFixed(num: bigint, den: bigint, ln2: bigint): bigint {
  // bring num/den into [2/3, 4/3] by powers of two
  let k = 0n;
  let n = num;
  let d = den;
  while (3n * n > 4n * d) {
    d *= 2n;
    k += 1n;
  }
  while (3n * n < 2n * d) {
    n *= 2n;
    k -= 1n;
  }
  return k * ln2 + 2n * (n >= d ? atanhFixed(n - d, n + d) : -atanhFixed(d - n, n + d));
}
function expFixed(r: bigint): bigint {
  let term = ONE;
  let sum = ONE;
  for (let k = 1n; term !== 0n; k += 1n) {
    term = (term * r) / (k << FRAC);
    sum += term;
  }
  return sum;
}
/** Nearest double to v · 2^-FRAC (v signed fixed point). */
function fixedToDouble(v: bigint): number {
  if (v === 0n) return 0;
  const r = bigToDouble(v < 0n ? -v : v, -Number(FRAC));
  return v < 0n ? -r : r;
}
/** Exact fixed-point value of a double. */
function doubleToFixed(x: number): bigint {
  if (x === 0) return 0n;
  const { mantissa, exponent } = decompose(x);
  const s = BigInt(exponent) + FRAC;
  const m = s >= 0n ? mantissa << s : mantissa >> -s;
  return x < 0 ? -m : m;
}

interface Tables {
  invc: Float64Array;
  logc: Float64Array;
  logctail: Float64Array;
  expTab: BigUint64Array;
}
let tables: Tables | undefined;

function buildTables(): Tables {
  const ln2 = 2n * atanhFixed(1n, 3n);
  const invc = new Float64Array(N);
  const logc = new Float64Array(N);
  const logctail = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    // sub-interval i of z (bit patterns OFF + i·2^45 … OFF + (i+1)·2^45); centre as a rational
    const lo = decompose(asF64(OFF + (BigInt(i) << 45n)));
    const hi = decompose(asF64(OFF + (BigInt(i + 1) << 45n)));
    const e = Math.min(lo.exponent, hi.exponent);
    const centreNum = (lo.mantissa << BigInt(lo.exponent - e)) + (hi.mantissa << BigInt(hi.exponent - e)); // · 2^e / 2
    const centreDen = 1n << BigInt(1 - e); // centre = centreNum / centreDen (e < 0 here)
    const below1 = centreNum < centreDen;
    const scale = BigInt(below1 ? N : 2 * N);
    // round(scale / centre) with ties away from zero (C round); ties do not occur here
    const q = (2n * scale * centreDen + centreNum) / (2n * centreNum);
    invc[i] = Number(q) / Number(scale);
    // log(c) = −log(invc) = ln(scale / q)
    const lc = lnRationalFixed(scale, q, ln2);
    // logc = round(2^43 · log c) / 2^43
    const shift = FRAC - 43n;
    const half = 1n << (shift - 1n);
    const neg = lc < 0n;
    const mag = neg ? -lc : lc;
    let r43 = mag >> shift;
    const rem = mag - (r43 << shift);
    if (rem > half || (rem === half && (r43 & 1n) === 1n)) r43 += 1n;
    const logcFixed = (neg ? -r43 : r43) << shift;
    logc[i] = fixedToDouble(logcFixed);
    logctail[i] = fixedToDouble(lc - logcFixed);
  }
  const expTab = new BigUint64Array(2 * N);
  for (let i = 0; i < N; i++) {
    const t = expFixed((BigInt(i) * ln2) / BigInt(N)); // 2^(i/N)
    const h = fixedToDouble(t);
    const rel = (t << FRAC) / doubleToFixed(h) - ONE; // 2^(i/N)/H − 1
    expTab[2 * i] = asU64(fixedToDouble(rel));
    expTab[2 * i + 1] = (asU64(h) - (BigInt(i) << 45n)) & MASK64;
  }
  return { invc, logc, logctail, expTab };
}

// ---------------------------------------------------------------------------------------------

function logInline(ix: bigint, t: Tables): [number, number] {
  const tmp = (ix - OFF) & MASK64;
  const i = Number((tmp >> 45n) & 127n);
  const k = BigInt.asIntN(64, tmp) >> 52n;
  const iz = (ix - (tmp & (0xfffn << 52n))) & MASK64;
  const z = asF64(iz);
  const kd = Number(k);
  const invc = t.invc[i];
  const logc = t.logc[i];
  const logctail = t.logctail[i];
  const r = fma(z, invc, -1.0);
  const t1 = fma(kd, LN2HI, logc);
  const t2 = t1 + r;
  const lo1 = fma(kd, LN2LO, logctail);
  const lo2 = t1 - t2 + r;
  const ar = A[0] * r;
  const ar2 = r * ar;
  const ar3 = r * ar2;
  const hi = t2 + ar2;
  const lo3 = fma(ar, r, -ar2);
  const lo4 = t2 - hi + ar2;
  const q = fma(ar2, fma(ar2, fma(r, A[6], A[5]), fma(r, A[4], A[3])), fma(r, A[2], A[1]));
  const lo = fma(ar3, q, lo1 + lo2 + lo3 + lo4);
  const y = hi + lo;
  const tail = hi - y + lo;
  return [y, tail];
}

function top12(x: number): number {
  return Number(asU64(x) >> 52n);
}

function specialCase(tmp: number, sbits: bigint, ki: bigint): number {
  if ((ki & 0x80000000n) === 0n) {
    // k > 0: the exponent of scale might have overflowed
    const scale = asF64(sbits - (1009n << 52n));
    return 2 ** 1009 * fma(scale, tmp, scale);
  }
  // k < 0: avoid double rounding in the subnormal range
  const signed = (sbits + (1022n << 52n)) & MASK64; // signed scale
  const scale = asF64(signed);
  let y = scale + scale * tmp;
  if (Math.abs(y) < 1.0) {
    const one = y < 0 ? -1.0 : 1.0;
    let lo = scale - y + scale * tmp;
    const hi = one + y;
    lo = one - hi + y + lo;
    y = hi + lo - one;
    if (y === 0) y = asF64(signed & 0x8000000000000000n);
  }
  return 2 ** -1022 * y;
}

function expInline(x: number, xtail: number, t: Tables): number {
  let abstop = top12(x) & 0x7ff;
  // 0x3c9 = top12(2^-54), 0x408 = top12(512), 0x409 = top12(1024)
  if (((abstop - 0x3c9) >>> 0) >= 0x408 - 0x3c9) {
    if (((abstop - 0x3c9) >>> 0) >= 0x80000000) return 1.0 + x; // tiny
    if (abstop >= 0x409) return x < 0 ? 0 : Number.POSITIVE_INFINITY;
    abstop = 0; // large |x|: result may overflow or be subnormal
  }
  const kdShifted = fma(INV_LN2_N, x, SHIFT);
  const ki = asU64(kdShifted);
  const kd = kdShifted - SHIFT;
  let r = fma(kd, NEG_LN2LO_N, fma(kd, NEG_LN2HI_N, x));
  r += xtail;
  const idx = Number(ki & 127n) * 2;
  const top = (ki << 45n) & MASK64;
  const tail = asF64(t.expTab[idx]);
  const sbits = (t.expTab[idx + 1] + top) & MASK64;
  const r2 = r * r;
  const tmp = fma(r2 * r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), tail + r));
  if (abstop === 0) return specialCase(tmp, sbits, ki);
  const scale = asF64(sbits);
  return fma(scale, tmp, scale);
}

/** glibc's pow(x, y) for finite x > 0 and finite y, bit for bit. */
export function glibcPow(x: number, y: number): number {
  if (!(x > 0) || !Number.isFinite(x) || !Number.isFinite(y)) {
    throw new RangeError(`glibcPow: need finite x > 0 and finite y, got x=${x}, y=${y}`);
  }
  if (y === 0 || x === 1) return 1;
  const t = (tables ??= buildTables());
  let ix = asU64(x);
  const topy = top12(y) & 0x7ff;
  if (((topy - 0x3be) >>> 0) >= 0x43e - 0x3be) {
    // |y| < 2^-65 or |y| ≥ 2^63
    if (topy < 0x3be) return ix > asU64(1.0) ? 1.0 + y : 1.0 - y;
    return (ix > asU64(1.0)) === (y > 0) ? Number.POSITIVE_INFINITY : 0;
  }
  if (top12(x) === 0) {
    // subnormal x: normalise
    ix = (asU64(x * 2 ** 52) & 0x7fffffffffffffffn) - (52n << 52n);
  }
  const [hi, lo] = logInline(ix, t);
  const ehi = y * hi;
  const elo = fma(y, lo, fma(y, hi, -ehi));
  return expInline(ehi, elo, t);
}
