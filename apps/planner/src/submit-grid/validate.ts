import { GridRequest } from '@pdr/contracts';
import { computeRadius } from '@pdr/domain';

/**
 * Physics checks that would otherwise fail only when state builds the rows: geometry (alpha = 3 has no
 * radius) and, through state, unknown parameter columns. Throws with a message naming the value.
 */
export function validatePhysics(r: GridRequest): void {
  const { alpha, rcore } = r.physics;
  // the radius formula divides by (9 - 3·alpha); a smoke computation surfaces that as a named error
  computeRadius(1, 1000, alpha, rcore);
}
