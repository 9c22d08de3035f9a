import { preflightBaseDir, preflightLine, type PreflightProblem } from '@pdr/domain';
import type { GridRequest } from '@pdr/contracts';
import { CliContext } from '../context';
import { EXIT, ExitWith } from '../errors';
import { errorLine, warningLine } from '../output/io';

/**
 * The CLI's preflight (issue 13): before a grid is submitted — and in `--dry-run`, `pdr inputs` and
 * `pdr check` — every file the runners will need is checked on this machine with @pdr/domain's
 * preflight functions, the ones each runner repeats before it runs a point (same wording). Each problem
 * is one line `pdr: error: <key> <path>: <what>`; any problem ends the command with exit 2 before
 * anything is sent.
 *
 * `--remote-runners` (config `pdr.remote_runners: true`) says the runners are elsewhere: what only this
 * machine's view can answer becomes a warning "the runners must see it at this path".
 */

export interface PreflightOptions {
  /** The runners are on other machines (--remote-runners, pdr.remote_runners). */
  remoteRunners: boolean;
  /**
   * Keys checked for files THIS command reads itself (pdr inputs renders from the templates): their
   * problems stay errors with --remote-runners.
   */
  readHere?: readonly string[];
  /**
   * Also check the storage, read-only (libs/storage probeStorage: connect, authenticate, the model's folder
   * or its nearest parent writable by its permissions; nothing written), with this environment (the
   * config's storage password and passphrase added: storageCheckEnv). Absent: not checked (`pdr inputs`;
   * `pdr run` makes the writing check, requireStorage, after the preflight).
   */
  storage?: { env: NodeJS.ProcessEnv };
}

export interface PreflightOutcome {
  errors: string[];
  warnings: string[];
  /** The storage check's line when it was made and passed (or was skipped), for the command to print. */
  storage?: string;
}

/** The keys whose files `pdr inputs` reads on this machine. */
export const READ_BY_INPUTS = ['pdr.base_dir', 'pdr.pdrinp_template_file', 'pdr.json_template_file', '--json-template'] as const;

/**
 * The read-only storage check (libs/storage probeStorage, the same backend code as the runners'): its
 * problem as `storage <where>: <what>`. Like the base dir it depends on what this machine sees, so with
 * --remote-runners it is a warning.
 */
async function storageProblems(r: GridRequest, o: PreflightOptions): Promise<{ problems: PreflightProblem[]; line?: string }> {
  if (!o.storage) return { problems: [] };
  const { probeStorage } = require('@pdr/storage') as typeof import('@pdr/storage');
  const res = await probeStorage(r.run.storage, r.modelName, { env: o.storage.env });
  if (res.ok) return { problems: [], line: res.message };
  const prefix = `storage ${res.where}: `;
  return { problems: [{ key: 'storage', path: res.where, problem: res.message.startsWith(prefix) ? res.message.slice(prefix.length) : res.message }] };
}

/** Runs every check for a planned grid; returns the lines (errors and warnings), prints nothing. */
export async function preflightRequest(r: GridRequest, o: PreflightOptions): Promise<PreflightOutcome> {
  const result = await preflightBaseDir({ ...r.run, species: r.onionSpecies });
  const storage = await storageProblems(r, o);
  const problems = [...result.problems, ...storage.problems];
  const errors: string[] = [];
  const warnings = [...result.warnings];
  for (const p of problems) {
    if (o.remoteRunners && !(o.readHere ?? []).includes(p.key)) warnings.push(`${preflightLine(p)}; the runners must see it at this path`);
    else errors.push(preflightLine(p));
  }
  return { errors, warnings, ...(storage.line ? { storage: storage.line } : {}) };
}

/** Prints the warnings, then the errors (one line each); any error ends the command with exit 2. */
export function reportPreflight(ctx: CliContext, out: PreflightOutcome): void {
  for (const w of out.warnings) ctx.io.err(warningLine(w));
  for (const e of out.errors) ctx.io.err(errorLine(e));
  if (out.errors.length > 0) throw new ExitWith(EXIT.USAGE);
}

/** preflightRequest + reportPreflight. */
export async function runPreflight(ctx: CliContext, r: GridRequest, o: PreflightOptions): Promise<PreflightOutcome> {
  const out = await preflightRequest(r, o);
  reportPreflight(ctx, out);
  return out;
}
