import * as fs from 'fs';
import * as path from 'path';
import { Command, Option } from 'commander';
import { locateTemplates, readTemplates, renderInputsForPoint, RenderedInputs } from '@pdr/domain';
import type { GridRequest } from '@pdr/contracts';
import { CliContext } from '../context';
import { classifyError, EXIT, UsageError } from '../errors';
import { noticeLine } from '../output/io';
import { DRY_RUN_SHOWN_POINTS } from '../plan/defaults';
import { addOfflinePlanOptions, OfflinePlanFlags, planAndPreflight } from './offline-plan';
import { addPreflightOptions } from './options';

/** The grid flags of `pdr run` that decide the points and their inputs, plus where to put them. */
export interface InputsOptions extends OfflinePlanFlags {
  out?: string;
  stdout?: boolean;
}

/** The files of one point, in the order they are written. */
export const POINT_FILES = ['PDRNEW.INP', 'pdr_config.json', 'parameters.json'] as const;

/** Rendered files of one point: null when its template is missing (PDRNEW.INP, pdr_config.json). */
export function pointFiles(r: RenderedInputs): [string, string | null][] {
  return [
    ['PDRNEW.INP', r.pdrnewInp],
    ['pdr_config.json', r.pdrConfigJson],
    // The full kosmatau_parameters row: column names as keys, numbers as JSON numbers (all finite: the row builder checks them).
    ['parameters.json', `${JSON.stringify(r.row, null, 2)}\n`],
  ];
}

/** `DIR/<job name>`, checked to be a direct child of DIR (job names are safe path segments; this makes sure). */
export function jobDirOf(outDir: string, jobName: string): string {
  const target = path.resolve(outDir, jobName);
  if (path.dirname(target) !== path.resolve(outDir) || path.basename(target) !== jobName) {
    throw new UsageError(`job name ${JSON.stringify(jobName)} is not a plain directory name; refusing to write outside ${outDir}`);
  }
  return target;
}

function fsCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Creates `dir` (or accepts an existing real directory, never a symbolic link) and checks it resolves inside `realOut`. */
function makeJobDir(dir: string, realOut: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if (fsCode(err) !== 'EEXIST') throw new UsageError(`cannot create ${dir} (${fsCode(err)})`);
    if (!fs.lstatSync(dir).isDirectory()) throw new UsageError(`${dir} exists and is not a directory (a symbolic link or a file); remove it or choose another --out`);
  }
  if (path.dirname(fs.realpathSync(dir)) !== realOut) throw new UsageError(`${dir} resolves outside --out ${realOut}; refusing to write there`);
}

/** Writes one file; an existing regular file is replaced, a symbolic link or anything else is refused. */
function writeInto(target: string, text: string): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(target);
  } catch {
    st = null;
  }
  if (st !== null && !st.isFile()) throw new UsageError(`${target} exists and is not a regular file (a symbolic link or a directory); remove it or choose another --out`);
  try {
    fs.writeFileSync(target, text);
  } catch (err) {
    throw new UsageError(`cannot write ${target} (${fsCode(err)})`);
  }
}

/** renderInputsForPoint with the request's physics, exactly what state puts in the row and a runner renders from it. */
function renderPoint(r: GridRequest, point: { metal: string; dens: string; mass: string; chi: string }, t: { pdrnewTemplate: string | null; jsonTemplate: string | null }): RenderedInputs {
  return renderInputsForPoint({
    point,
    pdrnewTemplate: t.pdrnewTemplate,
    jsonTemplate: t.jsonTemplate,
    alpha: r.physics.alpha,
    rcore: r.physics.rcore,
    chemistry: r.physics.chemistry,
    nonDefault: r.physics.nonDefault,
    chemDatabaseFile: r.run.chemDatabase,
  });
}

/**
 * Offline: the grid of `pdr run` (same flags, same plan: config + flags → planRun), rendered point by
 * point with the templates of the PDR base dir exactly as a runner would. `--out DIR` writes
 * `DIR/<job name>/{PDRNEW.INP, pdr_config.json, parameters.json}` for every point; `--stdout` prints the
 * files of a grid of exactly one point. No service is contacted.
 *
 * Every point is rendered once before anything is written, so an invalid value (in any point) stops
 * the command with one line and an untouched DIR; the second pass renders again instead of keeping
 * up to --max-points rendered files in memory.
 */
export async function runInputs(ctx: CliContext, o: InputsOptions): Promise<number> {
  if (o.stdout && o.out !== undefined) throw new UsageError('--stdout and --out cannot be used together');
  if (!o.stdout && o.out === undefined) throw new UsageError('say where the inputs go: --out DIR (one directory per point) or --stdout (a grid of one point)');
  // The preflight of pdr run; the base dir and templates are read here, so they stay errors with --remote-runners.
  const { READ_BY_INPUTS } = require('../preflight/preflight') as typeof import('../preflight/preflight');
  const { plan } = await planAndPreflight(ctx, o, { shown: Number.POSITIVE_INFINITY, readHere: READ_BY_INPUTS });
  const r = plan.request;
  const points = plan.firstPoints;
  if (points.length !== plan.total) throw new Error(`internal: planned ${plan.total} points but got ${points.length}`);
  if (o.stdout && plan.total > 1) {
    throw new UsageError(
      `the grid has ${plan.total} points and --stdout prints one; choose one value per axis (or --single), or write every point with --out DIR`,
    );
  }

  const located = await locateTemplates(r.run.baseDir, {
    pdrinpTemplateFile: r.run.pdrinpTemplateFile,
    jsonTemplateFile: r.run.jsonTemplateFile,
    jsonTemplateOverride: r.run.jsonTemplateOverride ?? undefined,
    cwd: ctx.cwd,
  });
  // located.warnings (a missing template) were said by the preflight already
  const templates = await readTemplates(located);
  const from: Record<string, string> = {
    'PDRNEW.INP': `from ${located.pdrnewTemplate}`,
    'pdr_config.json': `from ${located.jsonTemplate}`,
    'parameters.json': 'the kosmatau_parameters row',
  };

  if (o.stdout) {
    const rendered = renderPoint(r, points[0], templates);
    for (const [name, text] of pointFiles(rendered)) {
      if (text === null) continue;
      ctx.io.out(`==> ${name} (job ${rendered.jobName}, ${from[name]}) <==`);
      ctx.io.write(text.endsWith('\n') ? text : `${text}\n`);
    }
    return EXIT.OK;
  }

  // Pass 1: every point renders (bad values, geometry, templates) before DIR is touched.
  for (const p of points) {
    try {
      renderPoint(r, p, templates);
    } catch (err) {
      const c = classifyError(err);
      if (c.exitCode === EXIT.USAGE) throw new UsageError(`point ${p.jobName}: ${c.message}`);
      throw err;
    }
  }

  const outDir = path.resolve(ctx.cwd, o.out as string);
  try {
    fs.mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new UsageError(`--out ${outDir}: cannot create the directory (${fsCode(err)})`);
  }
  if (!fs.statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir}: not a directory`);
  const realOut = fs.realpathSync(outDir);

  if (plan.seed !== null) ctx.io.out(noticeLine(`random seed: ${plan.seed} (reproduce with --seed ${plan.seed})`));
  let written = 0;
  for (const p of points) {
    const rendered = renderPoint(r, p, templates);
    const dir = jobDirOf(outDir, rendered.jobName);
    makeJobDir(dir, realOut);
    const names: string[] = [];
    for (const [name, text] of pointFiles(rendered)) {
      if (text === null) continue;
      writeInto(path.join(dir, name), text);
      names.push(name);
    }
    written += 1;
    if (written <= DRY_RUN_SHOWN_POINTS) ctx.io.out(`wrote ${dir}/ (${names.join(', ')})`);
  }
  if (written > DRY_RUN_SHOWN_POINTS) ctx.io.out(`… and ${written - DRY_RUN_SHOWN_POINTS} more`);
  const used = POINT_FILES.filter((n) => n === 'parameters.json' || (n === 'PDRNEW.INP' ? located.pdrnewTemplate : located.jsonTemplate) !== null);
  ctx.io.out(`${written} point(s) written to ${outDir}; ${used.map((n) => `${n} ${from[n]}`).join('; ')}`);
  return EXIT.OK;
}

export function registerInputs(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('inputs')
    .description("offline: render every point's PDRNEW.INP, pdr_config.json and parameters.json with the base dir templates (pdr run's grid flags)");
  addOfflinePlanOptions(cmd, { modelName: 'grid name (as pdr run; checked, not used in the files)', species: 'onion species (checked as pdr run; not used in the files)' })
    .addOption(new Option('--out <dir>', 'write DIR/<job name>/{PDRNEW.INP,pdr_config.json,parameters.json} for every point').conflicts('stdout'))
    .addOption(new Option('--stdout', 'print the files of a grid of one point instead of writing them').conflicts('out'));
  addPreflightOptions(cmd)
    .action(async (opts: InputsOptions) => {
      await runInputs(ctx(), opts);
    });
}
