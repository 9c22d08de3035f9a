/**
 * Exact helpers on IEEE-754 doubles using BigInt: decomposition into integer mantissa and binary
 * exponent, and correctly rounded conversion of a scaled BigInt back to a double.
 */

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** |x| = mantissa · 2^exponent exactly, for finite x ≠ 0 (mantissa > 0, no normalisation). */
export function decompose(x: number): { mantissa: bigint; exponent: number } {
  if (!Number.isFinite(x) || x === 0) throw new RangeError(`decompose: need a finite non-zero number, got ${x}`);
  F64[0] = x;
  const bits = U64[0];
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** Number of bits of a positive BigInt. */
export function bitLength(n: bigint): number {
  if (n <= 0n) return 0;
  // toString(16) is fast and exact; refine with the leading hex digit.
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
}

/** m · 2^e for an integer-valued double m and any integer e, exact when the result is representable. */
function ldexp(m: number, e: number): number {
  let r = m;
  let k = e;
  while (k > 1000) {
    r *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    // keep intermediate values normal: only the last step may become subnormal
    if (k >= -2000) {
      r *= 2 ** -1000;
      k += 1000;
      break;
    }
    r *= 2 ** -1000;
    k += 1000;
  }
  return r * 2 ** k;
}

/**
 * The double nearest to n · 2^scale (n ≥ 0), ties to even, with correct subnormal rounding and
 * overflow to Infinity. `sticky` tells that the true value is slightly above n · 2^scale (bits lost
 * earlier), which matters only to break exact ties.
 */
export function bigToDouble(n: bigint, scale: number, sticky = false): number {
  if (n === 0n) return 0;
  const len = bitLength(n);
  // unit of the last place we keep: normally 53 significant bits, but never below 2^-1074
  let shift = len - 53;
  if (shift + scale < -1074) shift = -1074 - scale;
  if (shift <= 0) return ldexp(Number(n << BigInt(-shift)), shift + scale); // exact
  const big = BigInt(shift);
  let q = n >> big;
  const rem = n - (q << big);
  const half = 1n << (big - 1n);
  if (rem > half || (rem === half && (sticky || (q & 1n) === 1n))) q += 1n;
  if (bitLength(q) + shift + scale > 1024) return Number.POSITIVE_INFINITY;
  return ldexp(Number(q), shift + scale);
}
