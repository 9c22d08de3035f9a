import { Command } from 'commander';
import { CliContext } from '../context';
import { EXIT, exitWith } from '../errors';
import { addOfflinePlanOptions, OfflinePlanFlags, planAndPreflight } from './offline-plan';
import { addPreflightOptions } from './options';

export type CheckOptions = OfflinePlanFlags & { storageCheck?: boolean };

/**
 * `pdr check --config F`: everything `pdr run` checks before it submits (config, flags, physics, and the
 * preflight of the base dir, executables, templates, chemistry and onion inputs), without any service, and
 * the read-only storage check (connect, authenticate, folder writable by its permissions; nothing written;
 * `--no-storage-check` leaves it out). Exit 0 with one summary line (and the storage check's) when nothing
 * is wrong; each problem one line and exit 2 otherwise.
 */
export async function runCheck(ctx: CliContext, o: CheckOptions): Promise<number> {
  const { plan, preflight: out } = await planAndPreflight(ctx, o, { storageCheck: o.storageCheck !== false });
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
    .description('check a config as pdr run would before submitting, without any service (base dir, executables, templates, chemistry file, onion inputs; storage read-only)');
  addOfflinePlanOptions(cmd, { modelName: 'grid name (as pdr run)', species: 'onion species (as pdr run)' }).option(
    '--no-storage-check',
    'leave out the read-only storage check (connect, authenticate, folder permissions)',
  );
  addPreflightOptions(cmd).action(async (opts: CheckOptions) => {
    exitWith(await runCheck(ctx(), opts));
  });
}
