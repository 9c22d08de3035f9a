/**
 * The canonical parameter row of a row pdr_run stored (issue 14: adopting pdr_run databases).
 *
 * pdr_run's MySQL/MariaDB columns are single-precision FLOAT: 0.2 is stored as 0.20000000298…, and
 * MariaDB shows and dumps a FLOAT with 6 significant digits (rtot 1.1408065696821926e18 → 1.14081e18).
 * Hashing such values would never equal the hash of the doubles this project computes for the same
 * grid point, so a resubmitted legacy grid would run again. The identity is therefore recomputed:
 *
 *  1. Point columns (zmetal, xnsur, mass, sint, rtot) are recomputed from the ENCODED GRID STRINGS:
 *     the job name `metal_dens_mass_chi_00` when one is given, else the strings re-encoded from the
 *     stored values (pdr_run's own `round(10·log10 x)`); rtot from them with the row's alpha/rcore.
 *     A recomputed value is used only if it agrees with the stored one within FLOAT precision.
 *  2. Every other float column: its pdr_run default if the stored value agrees with it within FLOAT
 *     precision; otherwise (a non-default the user gave) the shortest decimal text that is the same
 *     single-precision number (what the user wrote in the config, up to 7 digits) when the value IS a
 *     single-precision number; a genuine double (SQLite stores doubles) is kept as it is.
 *  3. Ints, strings and the species text are kept as stored.
 *
 * "Within FLOAT precision": |a − b| ≤ FLOAT_MATCH_RELATIVE · max(|a|, |b|). Neighbouring grid values
 * differ by ≥ 25 % (0.1 dex steps), defaults by far more than 1e-5, so no two distinct points meet.
 */
import { pointOfJobName } from '../grid/grid';
import { logStringToValue, metalToZmetal, valueToLogString } from '../encoding/encoding';
import { computeRadius } from '../geometry/geometry';
import { KOSMATAU_PARAMETER_DEFAULTS } from './columns';
import { parameterHash } from './hash';
import { ParameterRow, ParameterValue, PointStrings } from './row';

/**
 * Relative tolerance of "the same FLOAT": MariaDB keeps and dumps 6 significant digits of a FLOAT
 * (half a unit of the 6th digit is ≤ 5e-6 relative) on top of single-precision rounding (6e-8).
 */
export const FLOAT_MATCH_RELATIVE = 1e-5;

export function sameFloat(a: number, b: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= FLOAT_MATCH_RELATIVE * Math.max(Math.abs(a), Math.abs(b));
}

/** The encoded strings of a pdr_run job name `metal_dens_mass_chi_00` (grid's pointOfJobName) whose values decode, or undefined. */
function decodablePointOfJobName(jobName: string | null | undefined): PointStrings | undefined {
  const p = jobName ? pointOfJobName(jobName) : null;
  if (!p) return undefined;
  try {
    metalToZmetal(p.metal);
    logStringToValue(p.dens);
    logStringToValue(p.mass);
    logStringToValue(p.chi);
  } catch {
    return undefined;
  }
  return p;
}

/** The encoded strings re-derived from stored values (pdr_run's from_par_to_string), or undefined. */
function pointOfValues(row: Readonly<Record<string, unknown>>): PointStrings | undefined {
  const { zmetal, xnsur, mass, sint } = row;
  if (typeof zmetal !== 'number' || typeof xnsur !== 'number' || typeof mass !== 'number' || typeof sint !== 'number') return undefined;
  try {
    const metal = String(Math.round(zmetal * 100));
    return { metal, dens: valueToLogString(xnsur), mass: valueToLogString(mass), chi: valueToLogString(sint) };
  } catch {
    return undefined;
  }
}

/** The shortest decimal that is the same single-precision number as `v` (`v` itself if none is). */
function shortestFloat32(v: number): number {
  const f = Math.fround(v);
  if (f !== v) return v;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(v.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return v;
}

export interface LegacyIdentity {
  /** The canonical row (every physics column, declaration order). */
  row: ParameterRow;
  hash: string;
  /** Where the point columns came from. */
  source: 'job-name' | 'values' | 'stored';
}

/**
 * The canonical row and parameter hash of a stored pdr_run parameter row (see the module doc).
 * `stored` holds the physics columns as read (floats as exact doubles: `CAST(col AS DOUBLE)`);
 * `jobNames` the names of the jobs that use the row (tried in order). Works for FLOAT (MariaDB) and
 * double (SQLite) values alike.
 */
export function legacyParameterIdentity(
  stored: Readonly<Record<string, unknown>>,
  jobNames: readonly (string | null)[],
): LegacyIdentity {
  const row: Record<string, ParameterValue> = {};
  for (const c of KOSMATAU_PARAMETER_DEFAULTS) {
    const v = stored[c.name];
    if (v === null || v === undefined) {
      row[c.name] = null;
    } else if (c.kind === 'float' || c.kind === 'int') {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) throw new Error(`kosmatau_parameters.${c.name}: ${String(v)} is not a finite number`);
      if (c.kind === 'float' && typeof c.default === 'number' && sameFloat(n, c.default)) row[c.name] = c.default;
      else row[c.name] = (c.kind === 'float' ? shortestFloat32(n) : n) + 0;
    } else {
      row[c.name] = String(v);
    }
  }
  const alpha = row.alpha;
  const rcore = row.rcore;
  const candidates: [LegacyIdentity['source'], PointStrings | undefined][] = [
    ...jobNames.map((n) => ['job-name', decodablePointOfJobName(n)] as [LegacyIdentity['source'], PointStrings | undefined]),
    ['values', pointOfValues(stored)],
  ];
  let source: LegacyIdentity['source'] = 'stored';
  for (const [from, p] of candidates) {
    if (!p) continue;
    let values: Record<string, number>;
    try {
      const zmetal = metalToZmetal(p.metal);
      const xnsur = logStringToValue(p.dens);
      const mass = logStringToValue(p.mass);
      const sint = logStringToValue(p.chi);
      const rtot = typeof alpha === 'number' && typeof rcore === 'number' ? computeRadius(mass, xnsur, alpha, rcore) : NaN;
      values = { zmetal, xnsur, mass, sint, rtot };
    } catch {
      continue;
    }
    const agrees = Object.entries(values).every(([k, v]) => {
      const s = stored[k];
      return typeof s === 'number' && sameFloat(s, v);
    });
    if (!agrees) continue;
    Object.assign(row, values);
    source = from;
    break;
  }
  const frozen = Object.freeze(row);
  return { row: frozen, hash: parameterHash(frozen), source };
}
