/**
 * Input-file rendering (SPEC §5.6), byte-identical to pdr_run's create_pdrnew_from_job_id and
 * create_json_from_job_id: plain substring replacement of `KT_VAR<key>_` for each key in pdr_run's
 * order (the ORM attribute order: id, model_name_id, time_created, the physics columns in declaration
 * order, comments; for the JSON file then KT_VARCHEM_DATABASE_FILE_). Keys missing from the row are
 * not replaced; unknown placeholders stay verbatim, as in pdr_run.
 *
 * Number formatting is pdr_run's format_scientific, reproduced exactly (numeric/pyformat.ts). Its
 * precision loss (defect 23: 4 significant digits for |v| ≥ 1000 or < 0.1) is kept on purpose: the
 * KOSMA-τ inputs must stay identical to those pdr_run writes.
 */
import { KOSMATAU_PARAMETER_COLUMNS, KOSMATAU_PARAMETER_NAMES, ParameterKind } from '../parameters/columns';
import { ParameterRow, ParameterValue } from '../parameters/row';
import { formatExponential, formatFixed } from '../numeric/pyformat';

/**
 * pdr_run's format_scientific(v): Python int → str(v); bool → "True"/"False"; float with |v| ≥ 1000
 * or |v| < 0.1 → "%.3e", other floats → "%.6f"; None → "None"; strings as they are.
 * JS has one number type, so `kind` says whether a number is a Python int ('int') or float
 * (anything else, the default).
 */
export function formatScientific(value: ParameterValue | boolean | bigint | undefined, kind?: ParameterKind): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return value;
  if (kind === 'int') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`formatScientific: int value expected, got ${value}`);
    return BigInt(value).toString();
  }
  const a = Math.abs(value);
  return a >= 1000 || a < 0.1 ? formatExponential(value, 3) : formatFixed(value, 6);
}

/** pdr_run's substitution order: ORM attributes as loaded, then (JSON only) the chemistry DB file. */
export const RENDER_KEY_ORDER: readonly string[] = Object.freeze(['id', 'model_name_id', 'time_created', ...KOSMATAU_PARAMETER_NAMES, 'comments']);

function kindOf(key: string): ParameterKind | undefined {
  if (key === 'id' || key === 'model_name_id') return 'int';
  return KOSMATAU_PARAMETER_COLUMNS.get(key)?.kind;
}

function speciesList(value: ParameterValue): string[] {
  return String(value)
    .split(/\s+/)
    .filter((t) => t !== '');
}

function replaceAll(text: string, placeholder: string, value: string): string {
  return text.split(placeholder).join(value);
}

/** Renders PDRNEW.INP from its template (SPEC §5.6). */
export function renderPdrnew(template: string, row: ParameterRow): string {
  let out = template;
  for (const key of RENDER_KEY_ORDER) {
    if (!(key in row)) continue;
    const value = row[key];
    const placeholder = `KT_VAR${key}_`;
    let text: string;
    if (key === 'species') text = speciesList(value).map((s) => `SPECIES  ${s}`).join('\n');
    else if (key === 'grid') text = isTruthy(value) ? '*MODEL GRID' : '';
    else text = formatScientific(value, kindOf(key));
    out = replaceAll(out, placeholder, text);
  }
  return out;
}

export interface RenderJsonOptions {
  /** File name of the chemical rate database (`KT_VARCHEM_DATABASE_FILE_`). */
  readonly chemDatabaseFile: string;
}

/** Renders pdr_config.json from its (JSONC-like) template (SPEC §5.6). */
export function renderPdrConfigJson(template: string, row: ParameterRow, opts: RenderJsonOptions): string {
  let out = template;
  const entries: [string, ParameterValue][] = RENDER_KEY_ORDER.filter((k) => k in row).map((k) => [k, row[k]]);
  entries.push(['CHEM_DATABASE_FILE', opts.chemDatabaseFile]);
  for (const [key, value] of entries) {
    const placeholder = `KT_VAR${key}_`;
    let text: string;
    if (key === 'species' && typeof value === 'string') text = `["${speciesList(value).join('", "')}"]`;
    else if (key === 'grid') text = isTruthy(value) ? 'true' : 'false';
    else text = formatScientific(value, kindOf(key));
    out = replaceAll(out, placeholder, text);
  }
  return out;
}

/** Python truthiness of a row value. */
function isTruthy(value: ParameterValue): boolean {
  return value !== null && value !== 0 && value !== '';
}
