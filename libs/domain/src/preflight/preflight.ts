/**
 * Preflight: the checks of a KOSMA-tau base dir that decide whether a point CAN run, made before anything
 * is submitted (the CLI: `pdr run`, `--dry-run`, `pdr inputs`, `pdr check`) and again by each runner before
 * it runs a point (its machine may see other files). One owner, one wording: every problem is one line
 * `<config key> <path>: <what is wrong>`, the same on the user's terminal and in a failed point's reason.
 *
 * Reads the file system (like templates/locate.ts); no messaging, no database.
 */
import { constants as fsConstants, promises as fsp, type Stats } from 'fs';
import * as path from 'path';
import { templateCandidates } from '../templates/locate';

/** One problem: the configuration key it comes from, the path it concerns, and what is wrong. */
export interface PreflightProblem {
  readonly key: string;
  readonly path: string;
  readonly problem: string;
}

/** `<key> <path>: <problem>` — the one line shown for a problem (CLI error, runner's failure reason). */
export function preflightLine(p: PreflightProblem): string {
  return `${p.key} ${p.path}: ${p.problem}`;
}

/** What the checks need: the run options of a grid (contract `runOptions`) plus its onion species. */
export interface PreflightSubject {
  /** Absolute KOSMA-tau base dir. */
  readonly baseDir: string;
  readonly pdrFileName: string;
  readonly onionFileName: string;
  /** File name in `<baseDir>/pdrinpdata`. */
  readonly chemDatabase: string;
  readonly pdrinpTemplateFile: string;
  readonly jsonTemplateFile: string;
  /** Absolute path of a user JSON template (--json-template), or null. */
  readonly jsonTemplateOverride?: string | null;
  /** The user runs from pdr_config.json alone: a missing PDRNEW template is not an error. */
  readonly jsonOnly?: boolean;
  readonly species: readonly string[];
}

/** Which parts a run needs (a force-onion run after stored PDR outputs needs no PDR executable nor chemistry). */
export interface PreflightNeeds {
  readonly pdr: boolean;
  readonly onion: boolean;
}

/** The configuration key of each check (as the user writes it). */
export const PREFLIGHT_KEYS = {
  baseDir: 'pdr.base_dir',
  pdrExecutable: 'pdr.pdr_file_name',
  onionExecutable: 'pdr.onion_file_name',
  chemistry: 'pdr.chem_database',
  pdrnewTemplate: 'pdr.pdrinp_template_file',
  jsonTemplate: 'pdr.json_template_file',
  jsonTemplateOverride: '--json-template',
  species: 'model_parameters.species',
} as const;

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** stat, with "does not exist" (ENOENT, ENOTDIR) as null and any other error as its code. */
async function statOf(p: string): Promise<Stats | null | string> {
  try {
    return await fsp.stat(p);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    return code ?? String(err);
  }
}

async function canAccess(p: string, mode: number): Promise<boolean> {
  try {
    await fsp.access(p, mode);
    return true;
  } catch {
    return false;
  }
}

function problem(key: string, p: string, what: string): PreflightProblem {
  return { key, path: p, problem: what };
}

/** The base dir exists, is a directory, and can be listed and entered. */
export async function checkBaseDir(baseDir: string): Promise<PreflightProblem | null> {
  const key = PREFLIGHT_KEYS.baseDir;
  const st = await statOf(baseDir);
  if (st === null) return problem(key, baseDir, 'directory not found');
  if (typeof st === 'string') return problem(key, baseDir, `cannot be read (${st})`);
  if (!st.isDirectory()) return problem(key, baseDir, 'not a directory');
  if (!(await canAccess(baseDir, fsConstants.R_OK | fsConstants.X_OK))) return problem(key, baseDir, 'directory not readable (permission denied)');
  return null;
}

/** `<baseDir>/<name>` is a regular file this process may execute. */
export async function checkExecutable(which: 'pdr' | 'onion', baseDir: string, name: string): Promise<PreflightProblem | null> {
  const key = which === 'pdr' ? PREFLIGHT_KEYS.pdrExecutable : PREFLIGHT_KEYS.onionExecutable;
  const what = which === 'pdr' ? 'PDR executable' : 'onion executable';
  const p = path.join(baseDir, name);
  const st = await statOf(p);
  if (st === null) return problem(key, p, `${what} not found`);
  if (typeof st === 'string') return problem(key, p, `${what} cannot be read (${st})`);
  if (!st.isFile()) return problem(key, p, `${what} is not a regular file`);
  if (!(await canAccess(p, fsConstants.X_OK))) return problem(key, p, `${what} is not executable (chmod +x)`);
  return null;
}

/** The chemistry file `<baseDir>/pdrinpdata/<name>` is a readable regular file. */
export async function checkChemistry(baseDir: string, name: string): Promise<PreflightProblem | null> {
  const key = PREFLIGHT_KEYS.chemistry;
  const p = path.join(baseDir, 'pdrinpdata', name);
  const st = await statOf(p);
  if (st === null) return problem(key, p, 'chemistry file not found');
  if (typeof st === 'string') return problem(key, p, `chemistry file cannot be read (${st})`);
  if (!st.isFile()) return problem(key, p, 'chemistry file is not a regular file');
  if (!(await canAccess(p, fsConstants.R_OK))) return problem(key, p, 'chemistry file not readable (permission denied)');
  return null;
}

/** `<baseDir>/onioninpdata/ONION3.INP.<species>` for each species. */
export async function checkOnionInputs(baseDir: string, species: readonly string[]): Promise<PreflightProblem[]> {
  const out: PreflightProblem[] = [];
  for (const s of species) {
    const p = path.join(baseDir, 'onioninpdata', `ONION3.INP.${s}`);
    const st = await statOf(p);
    if (st === null) out.push(problem(PREFLIGHT_KEYS.species, p, `onion input of species ${s} not found`));
    else if (typeof st === 'string') out.push(problem(PREFLIGHT_KEYS.species, p, `onion input of species ${s} cannot be read (${st})`));
    else if (!st.isFile()) out.push(problem(PREFLIGHT_KEYS.species, p, `onion input of species ${s} is not a regular file`));
  }
  return out;
}

async function firstFile(candidates: readonly string[]): Promise<string | null> {
  for (const c of candidates) {
    const st = await statOf(c);
    if (st !== null && typeof st !== 'string' && st.isFile()) return c;
  }
  return null;
}

function searched(candidates: readonly string[]): string {
  return candidates.map((c) => path.dirname(c)).join(', ');
}

/**
 * The templates the configuration names. A missing PDRNEW template is an error unless the run is
 * JSON-only; a missing JSON template is a warning (pdr_config.json is then not written) unless the run
 * is JSON-only; a --json-template that is not a file is an error.
 */
export async function checkTemplates(s: PreflightSubject): Promise<{ problems: PreflightProblem[]; warnings: string[] }> {
  const problems: PreflightProblem[] = [];
  const warnings: string[] = [];
  const pdrCandidates = templateCandidates(s.baseDir, s.pdrinpTemplateFile);
  if ((await firstFile(pdrCandidates)) === null) {
    const p = problem(
      PREFLIGHT_KEYS.pdrnewTemplate,
      s.pdrinpTemplateFile,
      `PDRNEW template not found in ${searched(pdrCandidates)}${s.jsonOnly ? '' : ' (to run from pdr_config.json alone: --json-only or pdr.json_only: true)'}`,
    );
    if (s.jsonOnly) warnings.push(`${preflightLine(p)}; PDRNEW.INP will not be written (pdr.json_only)`);
    else problems.push(p);
  }
  if (s.jsonTemplateOverride) {
    const st = await statOf(s.jsonTemplateOverride);
    if (st === null) problems.push(problem(PREFLIGHT_KEYS.jsonTemplateOverride, s.jsonTemplateOverride, 'JSON template not found'));
    else if (typeof st === 'string' || !st.isFile()) problems.push(problem(PREFLIGHT_KEYS.jsonTemplateOverride, s.jsonTemplateOverride, 'JSON template is not a readable file'));
  } else {
    const jsonCandidates = templateCandidates(s.baseDir, s.jsonTemplateFile);
    if ((await firstFile(jsonCandidates)) === null) {
      const p = problem(PREFLIGHT_KEYS.jsonTemplate, s.jsonTemplateFile, `JSON template not found in ${searched(jsonCandidates)}`);
      if (s.jsonOnly) problems.push(p);
      else warnings.push(`${preflightLine(p)}; pdr_config.json will not be written`);
    }
  }
  return { problems, warnings };
}

export interface PreflightResult {
  problems: PreflightProblem[];
  /** Things that do not stop a run (a template the run can do without). */
  warnings: string[];
}

/**
 * Every check of a base dir, in the order a user fixes them. A base dir that cannot be read stops there
 * (every other check would only repeat it).
 */
export async function preflightBaseDir(s: PreflightSubject, needs: PreflightNeeds = { pdr: true, onion: true }): Promise<PreflightResult> {
  const base = await checkBaseDir(s.baseDir);
  if (base) return { problems: [base], warnings: [] };
  const problems: PreflightProblem[] = [];
  const push = (p: PreflightProblem | null) => {
    if (p) problems.push(p);
  };
  if (needs.pdr) {
    push(await checkExecutable('pdr', s.baseDir, s.pdrFileName));
    push(await checkChemistry(s.baseDir, s.chemDatabase));
  }
  if (needs.onion && s.species.length > 0) {
    push(await checkExecutable('onion', s.baseDir, s.onionFileName));
    problems.push(...(await checkOnionInputs(s.baseDir, s.species)));
  }
  const t = needs.pdr ? await checkTemplates(s) : { problems: [], warnings: [] };
  problems.push(...t.problems);
  return { problems, warnings: t.warnings };
}

/** Thrown where a preflight problem ends the work (a runner's point); `message` is the problems' lines joined by "; ". */
export class PreflightError extends Error {
  constructor(readonly problems: readonly PreflightProblem[]) {
    super(problems.map(preflightLine).join('; '));
    this.name = 'PreflightError';
  }
}
