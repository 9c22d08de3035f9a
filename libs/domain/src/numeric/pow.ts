/**
 * Powers as pdr_run computes them.
 *
 * pdr_run computes `10 ** (0.1 * v)` and `(M / D) ** (1/3)` with CPython, i.e. glibc's pow. V8's `**`
 * differs from it in the last bit for many inputs (10 ** -0.8, 10 ** 2.5, …), and even the correctly
 * rounded result differs from glibc in ~0.1 % of cases (glibc is accurate to ~0.52 ulp). Rows must
 * equal pdr_run's bit for bit, so the domain code uses `glibcPow` (numeric/glibc-pow.ts), verified
 * against 337 000 CPython results.
 */
import { glibcPow } from './glibc-pow';

/** pdr_run's `10 ** (0.1 * v)` reproduced bit for bit (0.1·v is the same double as in Python). */
export function pow10Tenths(v: number): number {
  return glibcPow(10, 0.1 * v);
}

/** pdr_run's `x ** y` for finite x > 0 (CPython float pow = glibc pow). */
export function pythonPow(x: number, y: number): number {
  return glibcPow(x, y);
}
