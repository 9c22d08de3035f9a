import { Command } from 'commander';
import { CliContext } from '../context';
import { EXIT, exitWith, UsageError } from '../errors';
import { warningLine } from '../output/io';
import type { RunFlags } from '../plan/run-plan';
import { addAxisOptions, addPreflightOptions, addRandomOptions, positiveInt } from './options';
import { DEFAULT_MAX_POINTS } from '../plan/defaults';

export type CheckOptions = Pick<
  RunFlags,
  'config' | 'modelName' | 'single' | 'metal' | 'dens' | 'mass' | 'chi' | 'species' | 'random' | 'seed' | 'jsonTemplate' | 'maxPoints' | 'remoteRunners' | 'jsonOnly' | 'storageCheck'
>;

/**
 * `pdr check --config F`: everything `pdr run` checks before it submits (config, flags, physics, and the
 * preflight of the base dir, executables, templates, chemistry and onion inputs), without any service, and
 * the read-only storage check (connect, authenticate, folder writable by its permissions; nothing written;
 * `--no-storage-check` leaves it out). Exit 0 with one summary line (and the storage check's) when nothing
 * is wrong; each problem one line and exit 2 otherwise.
 */
export async function runCheck(ctx: CliContext, o: CheckOptions): Promise<number> {
  if (o.single && o.random !== undefined) throw new UsageError('--single and --random cannot be used together');
  const { planRun } = require('../plan/run-plan') as typeof import('../plan/run-plan');
  const plan = planRun(o, { cwd: ctx.cwd, env: ctx.env });
  for (const w of plan.warnings) ctx.io.err(warningLine(w));
  const { runPreflight } = require('../preflight/preflight') as typeof import('../preflight/preflight');
  const { storageCheckEnv } = require('./storage') as typeof import('./storage');
  const out = await runPreflight(ctx, plan.request, {
    remoteRunners: plan.remoteRunners,
    ...(o.storageCheck !== false ? { storage: { env: storageCheckEnv(plan.loaded.config, ctx.env) } } : {}),
  });
  const r = plan.request;
  const where = plan.remoteRunners ? ' (runners elsewhere: the base dir was checked as far as this machine sees it)' : '';
  ctx.io.out(
    `ok: grid "${r.modelName}" of ${plan.total} point(s), ${r.onionSpecies.length} onion species; base dir ${r.run.baseDir}, storage ${plan.storagePath}${where}${out.warnings.length > 0 ? `; ${out.warnings.length} warning(s) above` : ''}`,
  );
  if (out.storage) ctx.io.out(out.storage);
  return EXIT.OK;
}

export function registerCheck(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('check')
    .description('check a config as pdr run would before submitting, without any service (base dir, executables, templates, chemistry file, onion inputs; storage read-only)')
    .option('--config <file>', 'YAML config file (pdr_run format), relative to the current directory')
    .option('--model-name <name>', 'grid name (as pdr run)')
    .option('--single', 'only the first value of each axis (one point)');
  addRandomOptions(addAxisOptions(cmd).option('--species <names...>', 'onion species (as pdr run)'))
    .option('--json-template <file>', 'your pdr_config.json template, relative to the current directory')
    .option('--max-points <n>', `refuse grids with more points (default ${DEFAULT_MAX_POINTS})`, positiveInt)
    .option('--no-storage-check', 'leave out the read-only storage check (connect, authenticate, folder permissions)');
  addPreflightOptions(cmd).action(async (opts: CheckOptions) => {
    exitWith(await runCheck(ctx(), opts));
  });
}
