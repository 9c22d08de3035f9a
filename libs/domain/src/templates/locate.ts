/**
 * Template discovery (SPEC §5.4 step 5, fixing defect 13). Separate from the pure code: reads the
 * file system. Search order inside the PDR base dir: `templates/`, `pdrinpdata/templates/`, `.`; the
 * first regular file wins. A `jsonTemplateOverride` (the CLI's --json-template) is resolved against
 * the caller's working directory — not the base dir — must exist, and replaces the JSON template
 * whatever `jsonTemplateFile` is called; nothing is ever copied over an original.
 * A missing template is a warning (that input file is not produced); both missing is an error.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';

export const TEMPLATE_SEARCH_DIRS: readonly string[] = Object.freeze(['templates', path.join('pdrinpdata', 'templates'), '.']);

export interface LocateTemplatesOptions {
  /** PDRNEW template file name (pdr.pdrinp_template_file; default PDRNEW.INP.template). */
  readonly pdrinpTemplateFile?: string;
  /** JSON template file name (pdr.json_template_file; default pdr_config.json.template). */
  readonly jsonTemplateFile?: string;
  /** Explicit JSON template path (--json-template); relative paths resolve against `cwd`. */
  readonly jsonTemplateOverride?: string;
  /** Working directory for relative paths; default process.cwd(). */
  readonly cwd?: string;
}

export interface LocatedTemplates {
  /** Absolute path of the PDRNEW.INP template, or null when not found. */
  readonly pdrnewTemplate: string | null;
  /** Absolute path of the pdr_config.json template, or null when not found. */
  readonly jsonTemplate: string | null;
  readonly warnings: readonly string[];
}

export class TemplateNotFoundError extends Error {
  constructor(
    message: string,
    readonly attempted: readonly string[],
  ) {
    super(message);
    this.name = 'TemplateNotFoundError';
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

function checkName(option: string, name: string): void {
  if (typeof name !== 'string' || name.trim() === '' || name.includes('\0')) {
    throw new TemplateNotFoundError(`${option} must be a non-empty file name, got ${JSON.stringify(name)}`, []);
  }
}

/** Candidate paths for a template name, in search order (an absolute name is its only candidate). */
export function templateCandidates(baseDir: string, name: string): string[] {
  if (path.isAbsolute(name)) return [path.normalize(name)];
  return TEMPLATE_SEARCH_DIRS.map((d) => path.resolve(baseDir, d, name));
}

async function findFirst(candidates: readonly string[]): Promise<string | null> {
  for (const c of candidates) if (await isFile(c)) return c;
  return null;
}

/** Finds the PDRNEW.INP and pdr_config.json templates for a PDR base dir. */
export async function locateTemplates(baseDir: string, opts: LocateTemplatesOptions = {}): Promise<LocatedTemplates> {
  const cwd = opts.cwd ?? process.cwd();
  const base = path.resolve(cwd, baseDir);
  const pdrName = opts.pdrinpTemplateFile ?? 'PDRNEW.INP.template';
  const jsonName = opts.jsonTemplateFile ?? 'pdr_config.json.template';
  checkName('pdrinp_template_file', pdrName);
  checkName('json_template_file', jsonName);
  const warnings: string[] = [];

  const pdrCandidates = templateCandidates(base, pdrName);
  const pdrnewTemplate = await findFirst(pdrCandidates);
  if (!pdrnewTemplate) warnings.push(`PDRNEW template ${JSON.stringify(pdrName)} not found (looked in ${pdrCandidates.join(', ')}); PDRNEW.INP will not be written`);

  let jsonTemplate: string | null;
  let jsonCandidates: string[];
  if (opts.jsonTemplateOverride !== undefined) {
    checkName('--json-template', opts.jsonTemplateOverride);
    const p = path.resolve(cwd, opts.jsonTemplateOverride);
    jsonCandidates = [p];
    if (!(await isFile(p))) throw new TemplateNotFoundError(`JSON template given with --json-template not found: ${p}`, [p]);
    jsonTemplate = p;
  } else {
    jsonCandidates = templateCandidates(base, jsonName);
    jsonTemplate = await findFirst(jsonCandidates);
    if (!jsonTemplate) warnings.push(`JSON template ${JSON.stringify(jsonName)} not found (looked in ${jsonCandidates.join(', ')}); pdr_config.json will not be written`);
  }

  if (!pdrnewTemplate && !jsonTemplate) {
    throw new TemplateNotFoundError(
      `no input templates found for PDR base dir ${base}: neither ${JSON.stringify(pdrName)} nor ${JSON.stringify(jsonName)} exists in ${TEMPLATE_SEARCH_DIRS.join(', ')}`,
      [...pdrCandidates, ...jsonCandidates],
    );
  }
  return { pdrnewTemplate, jsonTemplate, warnings };
}

/** Reads located templates as UTF-8 text (null stays null). */
export async function readTemplates(located: LocatedTemplates): Promise<{ pdrnewTemplate: string | null; jsonTemplate: string | null }> {
  const read = (p: string | null) => (p === null ? Promise.resolve(null) : fsp.readFile(p, 'utf8'));
  const [pdrnewTemplate, jsonTemplate] = await Promise.all([read(located.pdrnewTemplate), read(located.jsonTemplate)]);
  return { pdrnewTemplate, jsonTemplate };
}
