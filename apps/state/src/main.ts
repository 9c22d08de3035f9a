import { createLogger, maskText, registerSecret } from '@pdr/logging';
import { closeOnSignals, MetricsSettings, parseServiceArgs, stopWhenSupervisorGone, takeMetricsArgs } from '@pdr/messaging';
import { upgradeDatabase } from '@pdr/persistence';
import { databaseSettings, startStateService } from './start-state';

export { startStateService, databaseSettings } from './start-state';
export type { StateHandle, StateServiceOptions } from './start-state';
export { Reconciler } from './reconciler/reconciler';

interface Args {
  /** `upgrade`: the admin mode behind `pdr db upgrade` (the state binary is the one owner of the database). */
  mode: 'serve' | 'upgrade';
  configFile?: string;
  dryRun: boolean;
}

const USAGE = 'usage: main.js [--config FILE] [--metrics-port N] | main.js upgrade [--dry-run] [--config FILE]';

/** `[--config FILE]`: the file's `database` section (PDR_DB_* override it); `upgrade [--dry-run]`. */
export function parseStateArgs(argv: string[]): Args {
  const { values, positionals } = parseServiceArgs({ args: argv, options: { config: { type: 'string' }, 'dry-run': { type: 'boolean' } }, allowPositionals: true }, USAGE);
  const [mode, ...extra] = positionals;
  if (mode !== undefined && mode !== 'upgrade') throw new Error(`unknown mode "${mode}" (${USAGE})`);
  if (extra.length) throw new Error(`unexpected argument "${extra[0]}" (${USAGE})`);
  if (values['dry-run'] && mode !== 'upgrade') throw new Error(`--dry-run belongs to the upgrade mode (${USAGE})`);
  return { mode: mode ?? 'serve', configFile: values.config, dryRun: values['dry-run'] === true };
}

/**
 * `node apps/state/dist/main.js [--config FILE]`: PDR_DB_*, PDR_NATS_URL, PDR_NATS_PREFIX; SIGTERM/SIGINT close gracefully.
 * `node apps/state/dist/main.js upgrade [--dry-run]`: upgrades a pdr_run database in place and exits
 * (`pdr db upgrade` runs this; it needs the database only, no NATS).
 */
if (require.main === module) {
  const logger = createLogger('state');
  stopWhenSupervisorGone(); // `pdr up` gone (even SIGKILLed): stop as on SIGTERM
  let args: Args;
  let metrics: MetricsSettings;
  try {
    const taken = takeMetricsArgs(process.argv.slice(2));
    metrics = taken.metrics;
    args = parseStateArgs(taken.rest);
  } catch (err) {
    process.stderr.write(`state: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (args.mode === 'upgrade') {
    let settings;
    try {
      settings = databaseSettings(process.env, args.configFile).settings;
      if (settings.password) registerSecret(settings.password);
    } catch (err) {
      process.stderr.write(`pdr db upgrade: error: ${maskText((err as Error).message)}\n`);
      process.exit(2);
    }
    upgradeDatabase(settings, { dryRun: args.dryRun, out: (line) => process.stdout.write(`${maskText(line)}\n`) }).then(
      (r) => process.exit(r.exitCode),
      (err) => {
        process.stderr.write(`pdr db upgrade: error: ${maskText((err as Error).message)} (the steps done are kept; run it again to continue)\n`);
        process.exit(1);
      },
    );
  } else {
    startStateService({ logger, configFile: args.configFile, metrics }).then(
      (svc) => closeOnSignals(logger, () => svc.close()),
      (err) => {
        if ((err as Error).name === 'LegacySchemaError') {
          process.stderr.write(`state: error: ${maskText((err as Error).message)}\n`);
          process.exit(2);
        }
        logger.fatal({ err: (err as Error).message }, 'state failed to start');
        process.exit(1);
      },
    );
  }
}
