import type { Command } from 'commander';
import type { CliContext } from '../context';
import { UsageError } from '../errors';
import { warningLine } from '../output/io';
import type { PlannedRun, RunFlags } from '../plan/run-plan';
import type { PreflightOutcome } from '../preflight/preflight';
import { DEFAULT_MAX_POINTS } from '../plan/defaults';
import { addAxisOptions, addRandomOptions, positiveInt } from './options';

/** The flags the offline commands (`pdr check`, `pdr inputs`) share with `pdr run`. */
export type OfflinePlanFlags = Pick<
  RunFlags,
  'config' | 'modelName' | 'single' | 'metal' | 'dens' | 'mass' | 'chi' | 'species' | 'random' | 'seed' | 'jsonTemplate' | 'maxPoints' | 'remoteRunners' | 'jsonOnly'
>;

/**
 * What `pdr check` and `pdr inputs` do first, as `pdr run` would: the config and flags planned into a grid
 * request (its warnings said), then the preflight of the base dir, executables, templates, chemistry and
 * onion inputs. `readHere`: the preflight keys the command reads on this machine (they stay errors with
 * --remote-runners); `shown`: how many points the plan lists; `storageCheck`: also the read-only storage
 * check (connect, authenticate, folder permissions; nothing written). Loaded lazily, as the CLI's commands are.
 */
export async function planAndPreflight(
  ctx: CliContext,
  f: OfflinePlanFlags,
  o: { shown?: number; readHere?: readonly string[]; storageCheck?: boolean } = {},
): Promise<{ plan: PlannedRun; preflight: PreflightOutcome }> {
  if (f.single && f.random !== undefined) throw new UsageError('--single and --random cannot be used together');
  const { planRun } = require('../plan/run-plan') as typeof import('../plan/run-plan');
  const plan = planRun(f, { cwd: ctx.cwd, env: ctx.env, shown: o.shown });
  for (const w of plan.warnings) ctx.io.err(warningLine(w));
  const { runPreflight } = require('../preflight/preflight') as typeof import('../preflight/preflight');
  const storage = o.storageCheck
    ? { storage: { env: (require('./storage') as typeof import('./storage')).storageCheckEnv(plan.loaded.config, ctx.env) } }
    : {};
  const preflight = await runPreflight(ctx, plan.request, { remoteRunners: plan.remoteRunners, readHere: o.readHere, ...storage });
  return { plan, preflight };
}

/** The grid flags of `pdr run` on an offline command (`help` says what the command does with two of them). */
export function addOfflinePlanOptions(cmd: Command, help: { modelName: string; species: string }): Command {
  cmd
    .option('--config <file>', 'YAML config file (pdr_run format), relative to the current directory')
    .option('--model-name <name>', help.modelName)
    .option('--single', 'only the first value of each axis (one point)');
  return addRandomOptions(addAxisOptions(cmd).option('--species <names...>', help.species))
    .option('--json-template <file>', 'your pdr_config.json template, relative to the current directory')
    .option('--max-points <n>', `refuse grids with more points (default ${DEFAULT_MAX_POINTS})`, positiveInt);
}
