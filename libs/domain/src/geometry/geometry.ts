/**
 * Clump geometry (SPEC §3.2), with pdr_run's constants and operation order so that results equal
 * pdr_run's doubles bit for bit (powers correctly rounded, see numeric/pow.ts).
 *
 *   rtot = 1.05916e19 · (M / (12·n·π/(9−3α) − 4·n·π·rc^(3−α)·α/(9−3α)))^(1/3)        [cm]
 *   mass = 8.41629e-58 · (12·n·π·r³/(9−3α) − 4·n·π·r³·rc^(3−α)·α/(9−3α))             [M☉]
 *
 * α = 3 (division by zero in pdr_run) and any input giving a non-positive or non-finite result are
 * errors naming the inputs. computeRadius is memoised (pure; grids repeat mass/density pairs).
 */
import { InvalidParameterValue } from '../encoding/encoding';
import { pythonPow } from '../numeric/pow';

export class GeometryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GeometryError';
  }
}

function check(name: string, v: number, positive: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
    throw new InvalidParameterValue(name, v, positive ? 'must be a finite number > 0' : 'must be a finite number');
  }
}

function checkShape(alpha: number, rcore: number): void {
  check('alpha', alpha, false);
  check('rcore', rcore, true);
  if (alpha === 3) {
    throw new InvalidParameterValue('alpha', alpha, 'alpha = 3 is not allowed (the density-law normalisation 9 − 3α is zero)');
  }
}

const radiusMemo = new Map<string, number>();

/** Clump radius rtot in cm for mass M (M☉), surface density n (cm⁻³), density exponent α, core radius rc. */
export function computeRadius(mass: number, density: number, alpha: number, rcore: number): number {
  const key = `${mass},${density},${alpha},${rcore}`;
  const memo = radiusMemo.get(key);
  if (memo !== undefined) return memo;
  const r = computeRadiusUncached(mass, density, alpha, rcore);
  if (radiusMemo.size >= 10000) radiusMemo.clear();
  radiusMemo.set(key, r);
  return r;
}

function computeRadiusUncached(mass: number, density: number, alpha: number, rcore: number): number {
  check('mass', mass, true);
  check('density', density, true);
  checkShape(alpha, rcore);
  const denom = 9 - 3 * alpha;
  const d = (12 * density * Math.PI) / denom - (4 * density * Math.PI * pythonPow(rcore, 3 - alpha) * alpha) / denom;
  const ratio = mass / d;
  if (!(ratio > 0) || !Number.isFinite(ratio)) {
    throw new GeometryError(
      `cannot compute the clump radius for mass=${mass}, density=${density}, alpha=${alpha}, rcore=${rcore}: ` +
        `the volume factor ${d} is not positive`,
    );
  }
  const r = 1.05916e19 * pythonPow(ratio, 1 / 3);
  if (!Number.isFinite(r)) throw new GeometryError(`clump radius overflows for mass=${mass}, density=${density}`);
  return r;
}

/** Clump mass in M☉ for radius r (cm), surface density n, α, rc — inverse of computeRadius (~1e-5 relative). */
export function computeMass(radius: number, density: number, alpha: number, rcore: number): number {
  check('radius', radius, true);
  check('density', density, true);
  checkShape(alpha, rcore);
  const r3 = pythonPow(radius, 3);
  const denom = 9 - 3 * alpha;
  const m =
    8.41629e-58 *
    ((12 * density * Math.PI * r3) / denom - (4 * density * Math.PI * r3 * pythonPow(rcore, 3 - alpha) * alpha) / denom);
  if (!(m > 0) || !Number.isFinite(m)) {
    throw new GeometryError(
      `cannot compute the clump mass for radius=${radius}, density=${density}, alpha=${alpha}, rcore=${rcore}: result ${m}`,
    );
  }
  return m;
}
