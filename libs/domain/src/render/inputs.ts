/**
 * Offline input generation for one grid point (the core of `pdr inputs`): validates the point and the
 * physics options, builds the parameter row and renders both input files from template TEXT.
 * A null/absent template gives a null file (pdr_run skipped it with a warning); at least one is needed.
 */
import { InvalidParameterValue } from '../encoding/encoding';
import { jobNameOf } from '../grid/grid';
import { hasUnsafeCharacters } from '../text/nearest';
import { buildParameterRow, ParameterRow, PointStrings } from '../parameters/row';
import { parameterHash } from '../parameters/hash';
import { renderPdrConfigJson, renderPdrnew } from './render';

export interface RenderInputsForPointInput {
  readonly point: PointStrings;
  /** PDRNEW.INP template text, or null when there is none. */
  readonly pdrnewTemplate?: string | null;
  /** pdr_config.json template text, or null when there is none. */
  readonly jsonTemplate?: string | null;
  readonly alpha?: number;
  readonly rcore?: number;
  readonly chemistry?: string | readonly string[];
  readonly nonDefault?: Readonly<Record<string, unknown>> | null;
  /** Chemical rate file name for KT_VARCHEM_DATABASE_FILE_ (pdr.chem_database). */
  readonly chemDatabaseFile?: string;
}

export interface RenderedInputs {
  readonly jobName: string;
  readonly row: ParameterRow;
  /** Canonical parameter hash of `row`. */
  readonly parameterHash: string;
  readonly pdrnewInp: string | null;
  readonly pdrConfigJson: string | null;
}

/** Builds the row and renders PDRNEW.INP and pdr_config.json for one point. */
export function renderInputsForPoint(input: RenderInputsForPointInput): RenderedInputs {
  const pdrnewTemplate = input.pdrnewTemplate ?? null;
  const jsonTemplate = input.jsonTemplate ?? null;
  if (pdrnewTemplate === null && jsonTemplate === null) {
    throw new InvalidParameterValue('templates', null, 'neither a PDRNEW.INP nor a pdr_config.json template was given');
  }
  const row = buildParameterRow(input);
  const chemDatabaseFile = input.chemDatabaseFile ?? 'chem_rates_2022-10-21-ERS.dat';
  if (typeof chemDatabaseFile !== 'string' || chemDatabaseFile === '' || hasUnsafeCharacters(chemDatabaseFile)) {
    throw new InvalidParameterValue('chem_database', chemDatabaseFile, 'expected a file name without quotes, backslashes or control characters');
  }
  return {
    jobName: jobNameOf(input.point),
    row,
    parameterHash: parameterHash(row),
    pdrnewInp: pdrnewTemplate === null ? null : renderPdrnew(pdrnewTemplate, row),
    pdrConfigJson: jsonTemplate === null ? null : renderPdrConfigJson(jsonTemplate, row, { chemDatabaseFile }),
  };
}
