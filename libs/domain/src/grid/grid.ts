/**
 * Cartesian grid expansion (SPEC §3.3): pdr_run's itertools.product(metal, dens, mass, chi) order —
 * metal outermost, chi varies fastest. Job name `${metal}_${dens}_${mass}_${chi}_00` from the strings
 * as given. Unlike pdr_run, values that encode the same number twice on one axis ("30", "30", "30.0")
 * collapse to the first one, so a grid never contains the same physical point twice (defect 20).
 */
import { isEncodedNumber, parseEncodedNumber, InvalidParameterValue } from '../encoding/encoding';

export const GRID_AXES = ['metal', 'dens', 'mass', 'chi'] as const;
export type GridAxis = (typeof GRID_AXES)[number];

/** The four grid axes as lists of encoded strings (SPEC §3.1). */
export interface GridAxes {
  readonly metal: readonly string[];
  readonly dens: readonly string[];
  readonly mass: readonly string[];
  readonly chi: readonly string[];
}

/** One grid point: the encoded strings and pdr_run's job name. */
export interface GridPoint {
  readonly metal: string;
  readonly dens: string;
  readonly mass: string;
  readonly chi: string;
  readonly jobName: string;
}

/** Axis values dropped because they encode a number already present on the same axis. */
export interface DroppedDuplicate {
  readonly axis: GridAxis;
  readonly value: string;
  readonly sameAs: string;
}

export interface NormalizedAxes {
  readonly axes: GridAxes;
  readonly dropped: readonly DroppedDuplicate[];
}

/** pdr_run's job name for a point. */
export function jobNameOf(p: { metal: string; dens: string; mass: string; chi: string }): string {
  return `${p.metal}_${p.dens}_${p.mass}_${p.chi}_00`;
}

/** The point a job name was made from (jobNameOf reversed); null for a name of another shape (legacy rows). */
export function pointOfJobName(name: string): { metal: string; dens: string; mass: string; chi: string } | null {
  const parts = name.split('_');
  if (parts.length !== 5 || parts[4] !== '00' || !parts.slice(0, 4).every(isEncodedNumber)) return null;
  return { metal: parts[0], dens: parts[1], mass: parts[2], chi: parts[3] };
}

/**
 * Validates every axis value (strict grammar) and removes numeric duplicates per axis, keeping the
 * first spelling. Empty axes or non-array axes are errors.
 */
export function normalizeAxes(axes: GridAxes): NormalizedAxes {
  const dropped: DroppedDuplicate[] = [];
  const out: Record<string, string[]> = {};
  for (const axis of GRID_AXES) {
    const values: unknown = (axes as unknown as Record<string, unknown>)[axis];
    if (!Array.isArray(values)) throw new InvalidParameterValue(axis, values, 'expected a list of encoded strings');
    if (values.length === 0) throw new InvalidParameterValue(axis, values, 'axis has no values');
    const seen = new Map<number, string>();
    const kept: string[] = [];
    for (const value of values) {
      const n = parseEncodedNumber(axis, value) + 0; // -0 and 0 are the same point
      const first = seen.get(n);
      if (first !== undefined) {
        dropped.push({ axis, value: value as string, sameAs: first });
        continue;
      }
      seen.set(n, value as string);
      kept.push(value as string);
    }
    out[axis] = kept;
  }
  return { axes: out as unknown as GridAxes, dropped };
}

/**
 * The axes a grid of this mode expands: all of them, or (pdr_run's single-model mode) the first value of
 * each axis — one point. The one definition, used by the CLI's plan and the planner.
 */
export function axesOfMode(axes: GridAxes, mode: 'grid' | 'single'): GridAxes {
  if (mode === 'grid') return axes;
  return { metal: axes.metal.slice(0, 1), dens: axes.dens.slice(0, 1), mass: axes.mass.slice(0, 1), chi: axes.chi.slice(0, 1) };
}

/** Number of distinct points of the grid, without materialising it. */
export function gridSize(axes: GridAxes): number {
  const { axes: a } = normalizeAxes(axes);
  return a.metal.length * a.dens.length * a.mass.length * a.chi.length;
}

function pointOf(a: GridAxes, i: number, j: number, k: number, l: number): GridPoint {
  const p = { metal: a.metal[i], dens: a.dens[j], mass: a.mass[k], chi: a.chi[l] };
  return { ...p, jobName: jobNameOf(p) };
}

/** The point at position `index` (0-based, pdr_run order) of an already normalised grid. */
export function gridPointAt(normalized: GridAxes, index: number): GridPoint {
  const a = normalized;
  const size = a.metal.length * a.dens.length * a.mass.length * a.chi.length;
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`grid index ${index} out of range 0..${size - 1}`);
  }
  let r = index;
  const l = r % a.chi.length;
  r = (r - l) / a.chi.length;
  const k = r % a.mass.length;
  r = (r - k) / a.mass.length;
  const j = r % a.dens.length;
  const i = (r - j) / a.dens.length;
  return pointOf(a, i, j, k, l);
}

/** Lazily yields the grid points in pdr_run order (metal outermost, chi fastest). */
export function* iterateGrid(axes: GridAxes): Generator<GridPoint, void, undefined> {
  const { axes: a } = normalizeAxes(axes);
  for (let i = 0; i < a.metal.length; i++)
    for (let j = 0; j < a.dens.length; j++)
      for (let k = 0; k < a.mass.length; k++)
        for (let l = 0; l < a.chi.length; l++) yield pointOf(a, i, j, k, l);
}

/** All grid points in pdr_run order. */
export function expandGrid(axes: GridAxes): GridPoint[] {
  return Array.from(iterateGrid(axes));
}
