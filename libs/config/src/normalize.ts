/**
 * Turning one raw layer (a parsed file, or command-line flags) into the canonical shape:
 * section aliases resolved, values coerced the way pdr_run users write them, unknown sections and
 * keys reported with the nearest known name, types checked with the zod schemas of ./schema.
 */
import { nearest } from '@pdr/domain';
import type { z } from 'zod';
import { describeValue } from './errors';
import {
  fieldKind,
  fieldSchema,
  NUMBER_KINDS,
  RUN_CONTROL_KEYS,
  SECTION_ALIASES,
  SECTION_NAMES,
  SECTION_SCHEMAS,
  sectionKeys,
  STRING_KINDS,
  type FieldKind,
  type SectionName,
} from './schema';
import type { PathSeg } from './yaml-file';

/** A canonical partial configuration from one source. */
export type Layer = { [S in SectionName]?: Record<string, unknown> } & {
  diagnostics_output_path?: unknown;
  log_dir?: unknown;
};

export interface LayerContext {
  /** Where a key is, for messages: `file:line:col` or `command-line flags`. */
  where(segs: readonly PathSeg[]): string;
  /** Text as written for a plain scalar (files only). */
  sourceText?(segs: readonly PathSeg[]): string | undefined;
  /** Top-level keys accepted besides the sections. */
  topLevelKeys: readonly string[];
}

export interface NormalizedLayer {
  layer: Layer;
  /** Canonical key path (`model_parameters.dens`) → the path as written (`model_params`, `dens`), for positions. */
  origins: Record<string, PathSeg[]>;
  issues: string[];
  warnings: string[];
}

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const TRUE_WORDS = new Set(['true', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', 'no', 'off']);

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function didYouMean(name: string, candidates: readonly string[], prefix = ''): string {
  const n = nearest(name, candidates);
  return n ? ` (did you mean ${prefix}${n}?)` : '';
}

/** Key path for messages: `model_parameters.dens[1]`. */
export function keyPath(segs: readonly PathSeg[]): string {
  let out = '';
  for (const s of segs) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function getAt(value: unknown, segs: readonly PathSeg[]): unknown {
  let v = value;
  for (const s of segs) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

/**
 * Coerce a raw value to what its kind expects, the way pdr_run configs are written: numbers in
 * string fields keep the text as written (`05`, `3.0`, a numeric password), numeric strings in
 * number fields become numbers, YAML 1.1 booleans (yes/no/on/off) are booleans, a single axis value
 * becomes a one-element list, a species string is split on whitespace, a chemistry list is joined.
 * Anything else is left for zod to reject with a precise message.
 */
function coerce(kind: FieldKind, v: unknown, segs: readonly PathSeg[], ctx: LayerContext): unknown {
  const asWritten = (value: unknown, at: readonly PathSeg[]): unknown =>
    typeof value === 'number' || typeof value === 'boolean' ? (ctx.sourceText?.(at) ?? String(value)) : value;

  if (STRING_KINDS.has(kind)) {
    if (kind === 'text' && Array.isArray(v)) {
      return v.every((x) => typeof x === 'string' || typeof x === 'number')
        ? v.map((x, i) => asWritten(x, [...segs, i])).join(' ')
        : v;
    }
    return asWritten(v, segs);
  }
  if (NUMBER_KINDS.has(kind)) {
    // pdr_run took the first element of a list for alpha/rcore; accept a one-element list only.
    if (Array.isArray(v) && v.length === 1 && kind === 'number') return coerce(kind, v[0], [...segs, 0], ctx);
    if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
    return v;
  }
  switch (kind) {
    case 'bool':
      if (typeof v === 'string') {
        const w = v.trim().toLowerCase();
        if (TRUE_WORDS.has(w)) return true;
        if (FALSE_WORDS.has(w)) return false;
      }
      return v;
    case 'axis': {
      const list = Array.isArray(v) ? v : typeof v === 'string' || typeof v === 'number' ? [v] : v;
      if (!Array.isArray(list)) return v;
      return list.map((x, i) => {
        const w = asWritten(x, Array.isArray(v) ? [...segs, i] : segs);
        return typeof w === 'string' ? w.trim() : w;
      });
    }
    case 'species':
      if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
      if (Array.isArray(v)) return v.map((x, i) => asWritten(x, [...segs, i]));
      return v;
    case 'strlist':
      if (typeof v === 'string') return [v];
      if (Array.isArray(v)) return v.map((x, i) => asWritten(x, [...segs, i]));
      return v;
    default:
      return v;
  }
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'int':
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    default:
      return expected;
  }
}

/** One zod issue → one message line, using the raw value the user wrote for "got". */
function issueText(issue: z.core.$ZodIssue, raw: unknown, key: string, kind?: FieldKind): string {
  const got = describeValue(raw, key);
  switch (issue.code) {
    case 'invalid_type': {
      const integer = kind === 'int' || kind === 'posint' || kind === 'nonnegint' || kind === 'port';
      return `expected ${integer && issue.path.length <= 1 ? 'an integer' : expectedText(issue.expected)}, got ${got}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}, got ${got}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must not be an empty list`
        : issue.origin === 'string'
          ? 'must not be empty'
          : `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${got}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${String(issue.maximum)} characters, got ${got}`
        : issue.origin === 'array'
          ? `must have at most ${String(issue.maximum)} entries, got ${got}`
          : `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${got}`;
    case 'invalid_format':
      return `${issue.message}, got ${got}`;
    default:
      return `${issue.message}, got ${got}`;
  }
}

/**
 * Normalise one raw layer. `raw` is the top-level mapping of a file or the flags object.
 * Problems are returned (not thrown) so that every problem of a file is reported at once.
 */
export function normalizeLayer(raw: Record<string, unknown>, ctx: LayerContext): NormalizedLayer {
  const layer: Layer = {};
  const issues: string[] = [];
  const warnings: string[] = [];
  const origins: Record<string, PathSeg[]> = {};
  const say = (segs: readonly PathSeg[], text: string) => issues.push(`${ctx.where(segs)}: ${keyPath(segs)}: ${text}`);
  const allTop = [...SECTION_NAMES, ...Object.keys(SECTION_ALIASES), ...ctx.topLevelKeys];
  const seenAs: Partial<Record<SectionName, string>> = {};

  for (const [topKey, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (ctx.topLevelKeys.includes(topKey)) {
      if (value === null) continue;
      const v = coerce('path', value, [topKey], ctx);
      if (typeof v !== 'string' || v === '') say([topKey], `expected a non-empty path, got ${describeValue(value)}`);
      else {
        (layer as Record<string, unknown>)[topKey] = v;
        origins[topKey] = [topKey];
      }
      continue;
    }
    const section: SectionName | undefined = (SECTION_NAMES as readonly string[]).includes(topKey)
      ? (topKey as SectionName)
      : SECTION_ALIASES[topKey];
    if (!section) {
      say([topKey], `unknown section${didYouMean(topKey, allTop)}; known: ${allTop.join(', ')}`);
      continue;
    }
    if (seenAs[section] !== undefined) {
      say(
        [topKey],
        `'${seenAs[section]}' and '${topKey}' are the same section (pdr_run alias); keep only '${section}'`,
      );
      continue;
    }
    seenAs[section] = topKey;
    if (value === null) {
      layer[section] = {};
      continue;
    }
    if (!isMapping(value)) {
      say([topKey], `expected a mapping of keys, got ${describeValue(value)}`);
      continue;
    }
    layer[section] = normalizeSection(section, topKey, value, ctx, say);
    for (const k of Object.keys(layer[section] ?? {})) origins[`${section}.${k}`] = [topKey, k];
  }

  // pdr_run read create_random_models / random_model_num / reserved_cpus from its merged
  // parameter dict, so they were also written under non_default_params: move them.
  const nd = layer.non_default_parameters;
  if (nd) {
    for (const k of RUN_CONTROL_KEYS) {
      if (!(k in nd)) continue;
      const mp = (layer.model_parameters ??= {});
      if (k in mp) {
        say([seenAs.non_default_parameters ?? 'non_default_parameters', k], `also set in model_parameters; keep only one`);
      } else {
        const segs = [seenAs.non_default_parameters ?? 'non_default_parameters', k];
        const kind = fieldKind('model_parameters', k) as FieldKind;
        const res = fieldSchema(kind).safeParse(nd[k]);
        if (!res.success) say(segs, issueText(res.error.issues[0], getAt(raw, segs), k, kind));
        mp[k] = nd[k];
        origins[`model_parameters.${k}`] = segs;
        warnings.push(
          `${ctx.where([seenAs.non_default_parameters ?? 'non_default_parameters', k])}: ` +
            `${keyPath(['non_default_parameters', k])} is a run setting, not a kosmatau_parameters column: ` +
            `used as model_parameters.${k}`,
        );
      }
      delete nd[k];
    }
  }
  return { layer, origins, issues, warnings };
}

function normalizeSection(
  section: SectionName,
  rawKey: string,
  obj: Record<string, unknown>,
  ctx: LayerContext,
  say: (segs: readonly PathSeg[], text: string) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = sectionKeys(section);
  for (const [key, v] of Object.entries(obj)) {
    const segs = [rawKey, key];
    const kind = fieldKind(section, key);
    if (!kind) {
      if (section === 'non_default_parameters' && (RUN_CONTROL_KEYS as readonly string[]).includes(key)) {
        if (v !== null && v !== undefined) out[key] = coerce(fieldKind('model_parameters', key) as FieldKind, v, segs, ctx);
        continue;
      }
      const what = section === 'non_default_parameters' ? 'unknown kosmatau_parameters column' : 'unknown key';
      say(segs, `${what}${didYouMean(key, known, `${rawKey}.`)}`);
      continue;
    }
    // null (YAML `key:` or `key: null`) means "not given here": the next source applies.
    if (v === null || v === undefined) continue;
    out[key] = coerce(kind, v, segs, ctx);
  }

  const res = SECTION_SCHEMAS[section].safeParse(out);
  if (!res.success) {
    for (const issue of res.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) {
          if (section === 'non_default_parameters' && (RUN_CONTROL_KEYS as readonly string[]).includes(k)) continue;
          say([rawKey, k], `unknown key${didYouMean(k, known, `${rawKey}.`)}`);
        }
        continue;
      }
      const [k, ...rest] = issue.path as PathSeg[];
      say([rawKey, k, ...rest], issueText(issue, getAt(obj, [k, ...rest]), String(k), fieldKind(section, String(k))));
    }
  }
  return out;
}
