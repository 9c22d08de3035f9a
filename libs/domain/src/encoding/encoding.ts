/**
 * String encodings of the grid axes (SPEC §3.1), without `eval` (defect 7).
 *
 * Grammar of an encoded number (decided here, applied to every axis value):
 *   [+-]? ( digits ( "." digits? )? | "." digits ) ( [eE] [+-]? digits )?
 * i.e. an optional sign (a leading "+" is accepted, as Python's eval accepted it), decimal digits
 * with an optional fraction, an optional exponent. Leading zeros are decimal ("05" = 5, "-05" = -5;
 * pdr_run's own random mode produces them although Python's eval rejects "05"). Everything else is
 * rejected: whitespace anywhere, "", "NaN", "Infinity", hex, underscores, expressions.
 */
import { pow10Tenths } from '../numeric/pow';

/** A grid or parameter value that is not acceptable; names the axis/key and the offending value. */
export class InvalidParameterValue extends Error {
  constructor(
    readonly axis: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid ${axis} value ${describe(value)}: ${reason}`);
    this.name = 'InvalidParameterValue';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return `of type ${Array.isArray(value) ? 'array' : typeof value}`;
}

const INTEGER_LITERAL = /^[+-]?\d+$/;
const NUMBER_GRAMMAR = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when `text` follows the encoded-number grammar above. */
export function isEncodedNumber(text: string): boolean {
  return NUMBER_GRAMMAR.test(text);
}

/**
 * Parses an encoded number strictly (grammar above). The result is the double nearest to the
 * decimal text, as Python's float()/int() would give for the same text.
 */
export function parseEncodedNumber(axis: string, text: unknown): number {
  if (typeof text !== 'string') throw new InvalidParameterValue(axis, text, 'expected a string such as "30" or "-10"');
  if (!NUMBER_GRAMMAR.test(text)) {
    throw new InvalidParameterValue(axis, text, 'not a plain decimal number (allowed: optional sign, digits, optional fraction and exponent, no spaces)');
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw new InvalidParameterValue(axis, text, 'number out of range');
  // Python evaluates an integer literal to an int, which has no negative zero ("-0" → 0, "-0.0" → -0.0)
  return INTEGER_LITERAL.test(text) ? value + 0 : value;
}

/** metal string → zmetal: `v * 0.01` exactly as pdr_run ("100" → 1.0, "50" → 0.5). Negative → error. */
export function metalToZmetal(metal: string, axis = 'metal'): number {
  const v = parseEncodedNumber(axis, metal);
  if (v < 0) throw new InvalidParameterValue(axis, metal, 'metallicity (percent of solar) must not be negative');
  return v * 0.01;
}

const decodeCache = new Map<string, number>();

/**
 * 10·log10 encoding → value: pdr_run's `10 ** (0.1 * v)` ("30" → 1000, "-10" → 0.1, "00" → 1).
 * 0.1·v is the same double as in Python; the power is correctly rounded (see numeric/pow.ts).
 * Results that overflow or underflow to 0 are errors.
 */
export function logStringToValue(text: string, axis = 'value'): number {
  const v = parseEncodedNumber(axis, text);
  const cached = decodeCache.get(text);
  if (cached !== undefined) return cached;
  if (Math.abs(v) > 3080) throw new InvalidParameterValue(axis, text, 'out of range: 10^(v/10) is not a finite positive double');
  const result = pow10Tenths(v);
  if (!Number.isFinite(result) || result === 0) {
    throw new InvalidParameterValue(axis, text, 'out of range: 10^(v/10) is not a finite positive double');
  }
  if (decodeCache.size > 10000) decodeCache.clear();
  decodeCache.set(text, result);
  return result;
}

/** Python's round(): nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Value → 10·log10 encoding, pdr_run's from_par_to_string: `str(round(10*log10(x)))`, "0" → "00"
 * (1e5 → "50", 1000 → "30", 0.1 → "-10"). pdr_run returned the sentinel "-99" for x ≤ 0; here that
 * is an error.
 */
export function valueToLogString(x: number, axis = 'value'): string {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) {
    throw new InvalidParameterValue(axis, x, 'must be a finite number > 0 to encode as 10·log10');
  }
  const s = String(roundHalfEven(10 * Math.log10(x)) + 0);
  return s === '0' ? '00' : s;
}

/** Random-mode integer → encoded string (pdr_run's from_par_to_string_log): -5 → "-05", 5 → "05", 0 → "00". */
export function intToLogString(n: number, axis = 'value'): string {
  if (!Number.isSafeInteger(n)) throw new InvalidParameterValue(axis, n, 'expected an integer');
  if (n === 0) return '00';
  if (n > 0 && n < 10) return `0${n}`;
  if (n < 0 && n > -10) return `-0${-n}`;
  return String(n);
}
