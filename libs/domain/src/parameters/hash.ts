/**
 * Canonical parameter hash: the stable identity of a physical parameter set (DESIGN: grid point key =
 * model name + canonical parameter hash).
 *
 * canonicalParameterJson(row): a JSON object with the row's physics columns sorted by name (UTF-16
 * code unit order), where
 *   - float columns → ECMAScript shortest round-trip text of the double (`String(n)`, identical on
 *     every machine; -0 written as 0), e.g. 1000, 0.1, 2.4577932483395914e+17, 1e-16;
 *   - int columns → integer text;
 *   - fuvstring → JSON string; species → JSON string with whitespace runs collapsed to one space and
 *     trimmed (spacing does not change the chemistry);
 *   - null → null.
 * Model-specific ids and bookkeeping (`id`, `model_name_id`, `time_created`, `comments`) are excluded.
 * Unknown keys and missing columns are errors, so a hash always covers the complete column set.
 * parameterHash(row) = sha256 hex of "kosmatau_parameters/v1\n" + canonical JSON.
 */
import { createHash } from 'crypto';
import { InvalidParameterValue } from '../encoding/encoding';
import { KOSMATAU_PARAMETER_COLUMNS, ParameterColumn } from './columns';
import { checkColumnValue, ParameterRow, ParameterValue } from './row';

export const PARAMETER_HASH_VERSION = 'kosmatau_parameters/v1';

const IGNORED = new Set(['id', 'model_name_id', 'time_created', 'comments']);

/** Physics columns sorted by name (UTF-16 code unit order) with their JSON-encoded keys. */
const SORTED = [...KOSMATAU_PARAMETER_COLUMNS.values()]
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  .map((column) => ({ column, key: `${JSON.stringify(column.name)}:` }));

let lastSpecies: { raw: string; json: string } | undefined;

function speciesJson(raw: string): string {
  if (lastSpecies?.raw !== raw) {
    lastSpecies = { raw, json: JSON.stringify(raw.split(/\s+/).filter((t) => t !== '').join(' ')) };
  }
  return lastSpecies.json;
}

/** The JSON text of one column's value (see module doc); throws for a value the column cannot hold. */
function columnJson(column: ParameterColumn, raw: ParameterValue | undefined): string {
  if (raw === null) return 'null';
  if (column.name === 'species' && typeof raw === 'string') return speciesJson(raw);
  if (typeof raw === 'number' && Number.isFinite(raw) && (column.kind === 'float' || (column.kind === 'int' && Number.isSafeInteger(raw)))) {
    return String(raw + 0);
  }
  const v = checkColumnValue(column, raw);
  return typeof v === 'number' ? String(v + 0) : JSON.stringify(v);
}

function checkKeys(row: ParameterRow): void {
  for (const k of Object.keys(row)) {
    if (!KOSMATAU_PARAMETER_COLUMNS.has(k) && !IGNORED.has(k)) throw new InvalidParameterValue(k, row[k], 'not a kosmatau_parameters column');
  }
}

function missingColumns(row: ParameterRow, except: ReadonlySet<string> = new Set()): InvalidParameterValue {
  const missing = SORTED.filter((s) => !(s.column.name in row) && !except.has(s.column.name)).map((s) => s.column.name);
  return new InvalidParameterValue('parameter row', missing.join(', '), 'columns missing from the row');
}

/** Canonical JSON text of a parameter row (see module doc). */
export function canonicalParameterJson(row: ParameterRow): string {
  checkKeys(row);
  let out = '{';
  for (let i = 0; i < SORTED.length; i++) {
    const { column, key } = SORTED[i];
    if (!(column.name in row)) throw missingColumns(row);
    out += (i === 0 ? '' : ',') + key + columnJson(column, row[column.name]);
  }
  return `${out}}`;
}

/** sha256 hex of the versioned canonical JSON of a parameter row. */
export function parameterHash(row: ParameterRow): string {
  return createHash('sha256').update(`${PARAMETER_HASH_VERSION}\n${canonicalParameterJson(row)}`, 'utf8').digest('hex');
}

/**
 * parameterHash for many rows that differ only in the `variable` columns: the canonical JSON of all
 * other columns (taken from `base`) is rendered once and the sha256 of the text before the first
 * variable column is computed once; per row only the variable values are rendered and hashed.
 * hasher(values) = parameterHash({ ...base, ...values }) for every `values` holding the variable columns.
 */
export function parameterHasher(base: ParameterRow, variable: readonly string[]): (values: Readonly<Record<string, ParameterValue>>) => string {
  checkKeys(base);
  const vary = new Set(variable);
  for (const name of vary) {
    if (!KOSMATAU_PARAMETER_COLUMNS.has(name)) throw new InvalidParameterValue(name, name, 'not a kosmatau_parameters column');
  }
  const segments: string[] = [];
  const slots: ParameterColumn[] = [];
  let text = '{';
  for (let i = 0; i < SORTED.length; i++) {
    const { column, key } = SORTED[i];
    const head = (i === 0 ? '' : ',') + key;
    if (vary.has(column.name)) {
      segments.push(text + head);
      slots.push(column);
      text = '';
    } else {
      if (!(column.name in base)) throw missingColumns(base, vary);
      text += head + columnJson(column, base[column.name]);
    }
  }
  segments.push(`${text}}`);
  const prefix = createHash('sha256').update(`${PARAMETER_HASH_VERSION}\n${segments[0]}`, 'utf8');
  return (values) => {
    let rest = '';
    for (let j = 0; j < slots.length; j++) rest += columnJson(slots[j], values[slots[j].name]) + segments[j + 1];
    return prefix.copy().update(rest, 'utf8').digest('hex');
  };
}
