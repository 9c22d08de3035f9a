import { InvalidArgumentError } from 'commander';

/** commander argument parsers: a bad value → commander's "option '--x <n>' argument 'y' is invalid." (exit 2). */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected an integer ≥ 0.');
  return Number(value);
}

export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number of seconds.');
  return n;
}

/** A random seed: unsigned 32-bit. */
export function seedValue(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 0xffffffff) throw new InvalidArgumentError('expected an integer 0..4294967295.');
  return n;
}
