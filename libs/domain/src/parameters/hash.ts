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
import { KOSMATAU_PARAMETER_COLUMNS } from './columns';
import { checkColumnValue, ParameterRow } from './row';

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

/** Canonical JSON text of a parameter row (see module doc). */
export function canonicalParameterJson(row: ParameterRow): string {
  for (const k of Object.keys(row)) {
    if (!KOSMATAU_PARAMETER_COLUMNS.has(k) && !IGNORED.has(k)) throw new InvalidParameterValue(k, row[k], 'not a kosmatau_parameters column');
  }
  let out = '{';
  for (let i = 0; i < SORTED.length; i++) {
    const { column, key } = SORTED[i];
    if (!(column.name in row)) {
      const missing = SORTED.filter((s) => !(s.column.name in row)).map((s) => s.column.name);
      throw new InvalidParameterValue('parameter row', missing.join(', '), 'columns missing from the row');
    }
    const raw = row[column.name];
    let text: string;
    if (raw === null) text = 'null';
    else if (column.name === 'species' && typeof raw === 'string') text = speciesJson(raw);
    else if (typeof raw === 'number' && Number.isFinite(raw) && (column.kind === 'float' || (column.kind === 'int' && Number.isSafeInteger(raw)))) {
      text = String(raw + 0);
    }
    else {
      const v = checkColumnValue(column, raw);
      text = typeof v === 'number' ? String(v + 0) : JSON.stringify(v);
    }
    out += (i === 0 ? '' : ',') + key + text;
  }
  return `${out}}`;
}

/** sha256 hex of the versioned canonical JSON of a parameter row. */
export function parameterHash(row: ParameterRow): string {
  return createHash('sha256').update(`${PARAMETER_HASH_VERSION}\n${canonicalParameterJson(row)}`, 'utf8').digest('hex');
}
