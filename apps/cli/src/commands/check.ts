import { Command } from 'commander';
import { CliContext } from '../context';
import { EXIT, exitWith } from '../errors';
import { addOfflinePlanOptions, OfflinePlanFlags, planAndPreflight } from './offline-plan';
import { addPreflightOptions } from './options';

export type CheckOptions = OfflinePlanFlags;

/**
 * `pdr check --config F`: everything `pdr run` checks before it submits (config, flags, physics, and the
 * preflight of the base dir, executables, templates, chemistry and onion inputs), offline. Exit 0 with
 * one summary line when nothing is wrong; each problem one line and exit 2 otherwise.
 */
export async function runCheck(ctx: CliContext, o: CheckOptions): Promise<number> {
  const { plan, preflight: out } = await planAndPreflight(ctx, o);
  const r = plan.request;
  const where = plan.remoteRunners ? ' (runners elsewhere: the base dir was checked as far as this machine sees it)' : '';
  ctx.io.out(
    `ok: grid "${r.modelName}" of ${plan.total} point(s), ${r.onionSpecies.length} onion species; base dir ${r.run.baseDir}, storage ${plan.storagePath}${where}${out.warnings.length > 0 ? `; ${out.warnings.length} warning(s) above` : ''}`,
  );
  return EXIT.OK;
}

export function registerCheck(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('check')
    .description("offline: check a config as pdr run would before submitting (base dir, executables, templates, chemistry file, onion inputs)");
  addOfflinePlanOptions(cmd, { modelName: 'grid name (as pdr run)', species: 'onion species (as pdr run)' });
  addPreflightOptions(cmd).action(async (opts: CheckOptions) => {
    exitWith(await runCheck(ctx(), opts));
  });
}
