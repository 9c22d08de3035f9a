import { GridRequest } from '@pdr/contracts';
import { validateGridPhysics } from '@pdr/domain';

/**
 * Physics checks that would otherwise fail only when state builds the rows, after the grid row exists:
 * unknown parameter columns, wrong types, geometry (alpha = 3, a mass × density corner that overflows).
 * Throws with a message naming the value.
 */
export function validatePhysics(r: GridRequest): void {
  const { alpha, rcore, chemistry, nonDefault } = r.physics;
  validateGridPhysics(r.axes, { alpha, rcore, chemistry, nonDefault });
}
