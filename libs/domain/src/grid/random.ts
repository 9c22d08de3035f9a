/**
 * Random mode (SPEC §3.4), reproducible and duplicate-free (fixing defect 20 and the missing seed).
 *
 * An axis with one value stays fixed (its string as given). Every other axis must hold integer
 * encodings; draws are integers in [min, max] inclusive, formatted with intToLogString. The n points
 * are a uniform sample WITHOUT replacement of the product of the ranges (equivalently: independent
 * uniform draws per axis, conditioned on all points being distinct), in random order.
 */
import { randomBytes } from 'crypto';
import { intToLogString, InvalidParameterValue, parseEncodedNumber } from '../encoding/encoding';
import { GRID_AXES, GridAxes, GridPoint, jobNameOf } from './grid';

/** A fresh random 32-bit seed (unsigned). */
export function newSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** mulberry32: small, fast, well-distributed 32-bit PRNG. Returns uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform integer in [0, bound) for 1 ≤ bound ≤ 2^53, unbiased (rejection). */
function uniformBelow(next: () => number, bound: number): number {
  if (bound <= 2 ** 32) {
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const x = next();
      if (x < limit) return x % bound;
    }
  }
  const limit = 2 ** 53 - (2 ** 53 % bound);
  for (;;) {
    const x = (next() >>> 11) * 2 ** 32 + next(); // 21 + 32 = 53 bits
    if (x < limit) return x % bound;
  }
}

interface AxisRange {
  readonly fixed?: string;
  readonly min: number;
  readonly count: number;
}

function axisRange(axis: string, values: unknown): AxisRange {
  if (!Array.isArray(values) || values.length === 0) {
    throw new InvalidParameterValue(axis, values, 'expected a non-empty list of encoded strings');
  }
  const nums = values.map((v) => parseEncodedNumber(axis, v));
  if (values.length === 1) return { fixed: values[0] as string, min: nums[0], count: 1 };
  nums.forEach((n, i) => {
    if (!Number.isSafeInteger(n)) {
      throw new InvalidParameterValue(axis, values[i], 'random mode needs integer values (it draws integers between min and max)');
    }
  });
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  return { min, count: max - min + 1 };
}

/** Number of distinct points random mode can draw from these axes. */
export function randomGridCapacity(axes: GridAxes): number {
  return GRID_AXES.reduce((p, a) => p * axisRange(a, axes[a]).count, 1);
}

/**
 * n distinct random points, deterministic for a given seed (uint32). Errors: n not a positive
 * integer, non-integer axis values, n larger than the number of distinct points possible.
 */
export function randomGrid(axes: GridAxes, n: number, seed: number): GridPoint[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidParameterValue('random_model_num', n, 'expected an integer ≥ 1');
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidParameterValue('seed', seed, 'expected an integer in 0..4294967295');
  }
  const ranges = GRID_AXES.map((a) => axisRange(a, axes[a]));
  const capacity = ranges.reduce((p, r) => p * r.count, 1);
  if (n > capacity) {
    throw new InvalidParameterValue(
      'random_model_num',
      n,
      `only ${capacity} distinct points exist within the axis ranges (${GRID_AXES.map((a, i) => `${a}: ${ranges[i].count}`).join(', ')})`,
    );
  }
  if (capacity > Number.MAX_SAFE_INTEGER) {
    throw new InvalidParameterValue('random_model_num', n, 'axis ranges too large (more than 2^53 points)');
  }
  const next = mulberry32(seed);
  // Floyd's algorithm: n distinct indices in [0, capacity), then a Fisher–Yates shuffle of their order.
  const chosen = new Set<number>();
  const order: number[] = [];
  for (let j = capacity - n; j < capacity; j++) {
    const t = uniformBelow(next, j + 1);
    const pick = chosen.has(t) ? j : t;
    chosen.add(pick);
    order.push(pick);
  }
  for (let i = order.length - 1; i > 0; i--) {
    const k = uniformBelow(next, i + 1);
    [order[i], order[k]] = [order[k], order[i]];
  }
  return order.map((index) => {
    let r = index;
    const parts: string[] = [];
    for (let a = GRID_AXES.length - 1; a >= 0; a--) {
      const range = ranges[a];
      const offset = r % range.count;
      r = (r - offset) / range.count;
      parts[a] = range.fixed ?? intToLogString(range.min + offset, GRID_AXES[a]);
    }
    const p = { metal: parts[0], dens: parts[1], mass: parts[2], chi: parts[3] };
    return { ...p, jobName: jobNameOf(p) };
  });
}
