import { createHash } from 'crypto';
import { GridRequest } from '@pdr/contracts';

/** JSON with sorted keys, so equal requests hash equally whatever their key order. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x && typeof x === 'object') {
    return `{${Object.keys(x)
      .sort()
      .filter((k) => (x as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/**
 * Identity of a grid within its model name: everything that defines which points run and how.
 * Submitting the same request twice yields the same grid row.
 */
export function gridRequestHash(r: GridRequest): string {
  const { description: _d, ...defining } = r;
  return createHash('sha256').update(canonical(defining)).digest('hex');
}
