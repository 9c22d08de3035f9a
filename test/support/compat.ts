/** Test helper (unit specs of libs/domain): reads pdr_run's compat vectors in place (../shared/compat beside the checkout). */
import * as fs from 'fs';
import * as path from 'path';
import { describeOrSkip } from './describe-or-skip';

export const COMPAT_DIR = path.resolve(__dirname, '../../../shared/compat');
export const VECTORS_FILE = path.join(COMPAT_DIR, 'vectors.jsonl');
export const TEMPLATES_DIR = path.join(COMPAT_DIR, 'templates');
export const HAVE_COMPAT = fs.existsSync(VECTORS_FILE) && fs.existsSync(TEMPLATES_DIR);

export interface JobVector {
  case: string;
  job_name: string;
  parameters: Record<string, number | string | null>;
  pdrnew_inp: string;
  pdr_config_json: string;
}

export interface CaseSummary {
  case: string;
  model_params: Record<string, unknown>;
  non_default_parameters: Record<string, unknown> | null;
  cli: string[];
}

export function loadVectors(): { jobs: JobVector[]; cases: Map<string, CaseSummary> } {
  const jobs: JobVector[] = [];
  const cases = new Map<string, CaseSummary>();
  if (!HAVE_COMPAT) return { jobs, cases };
  for (const line of fs.readFileSync(VECTORS_FILE, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const d = JSON.parse(line);
    if (d.parameters) jobs.push(d);
    else if (d.model_params) cases.set(d.case, d);
  }
  return { jobs, cases };
}

/** `describe`, or `describe.skip` with a visible warning when ../shared/compat is absent. */
export function describeWithCompat(name: string, fn: () => void): void {
  describeOrSkip(name, HAVE_COMPAT ? null : `pdr_run compat data not found at ${COMPAT_DIR}`, fn);
}
