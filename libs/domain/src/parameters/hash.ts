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

function numberText(n: number): string {
  return String(n + 0);
}

/** Canonical JSON text of a parameter row (see module doc). */
export function canonicalParameterJson(row: ParameterRow): string {
  const names = Object.keys(row)
    .filter((k) => !IGNORED.has(k))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const k of names) {
    if (!KOSMATAU_PARAMETER_COLUMNS.has(k)) throw new InvalidParameterValue(k, row[k], 'not a kosmatau_parameters column');
  }
  if (names.length !== KOSMATAU_PARAMETER_COLUMNS.size) {
    const missing = [...KOSMATAU_PARAMETER_COLUMNS.keys()].filter((k) => !(k in row));
    throw new InvalidParameterValue('parameter row', missing.join(', '), 'columns missing from the row');
  }
  const parts = names.map((k) => {
    const column = KOSMATAU_PARAMETER_COLUMNS.get(k)!;
    const raw = row[k];
    let text: string;
    if (raw === null) text = 'null';
    else {
      const v = checkColumnValue(column, raw);
      if (typeof v === 'number') text = numberText(v);
      else if (column.name === 'species') text = JSON.stringify((v as string).split(/\s+/).filter((t) => t !== '').join(' '));
      else text = JSON.stringify(v);
    }
    return `${JSON.stringify(k)}:${text}`;
  });
  return `{${parts.join(',')}}`;
}

/** sha256 hex of the versioned canonical JSON of a parameter row. */
export function parameterHash(row: ParameterRow): string {
  return createHash('sha256').update(`${PARAMETER_HASH_VERSION}\n${canonicalParameterJson(row)}`, 'utf8').digest('hex');
}
