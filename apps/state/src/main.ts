import { createLogger } from '@pdr/logging';
import { closeOnSignals, MetricsSettings, takeMetricsArgs } from '@pdr/messaging';
import { startStateService } from './start-state';

export { startStateService, databaseSettings } from './start-state';
export type { StateHandle, StateServiceOptions } from './start-state';
export { Reconciler } from './reconciler/reconciler';

/** `[--config FILE]`: the file's `database` section (PDR_DB_* override it). */
function parseArgs(argv: string[]): { configFile?: string } {
  const [flag, value, ...rest] = argv;
  if (flag === undefined) return {};
  if (flag === '--config' && value !== undefined && rest.length === 0) return { configFile: value };
  if (flag.startsWith('--config=') && value === undefined) return { configFile: flag.slice('--config='.length) };
  throw new Error(`unknown arguments "${argv.join(' ')}" (usage: main.js [--config FILE] [--metrics-port N])`);
}

/** `node apps/state/dist/main.js [--config FILE]`: PDR_DB_*, PDR_NATS_URL, PDR_NATS_PREFIX; SIGTERM/SIGINT close gracefully. */
if (require.main === module) {
  const logger = createLogger('state');
  let args: { configFile?: string };
  let metrics: MetricsSettings;
  try {
    const taken = takeMetricsArgs(process.argv.slice(2));
    metrics = taken.metrics;
    args = parseArgs(taken.rest);
  } catch (err) {
    process.stderr.write(`state: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  startStateService({ logger, configFile: args.configFile, metrics }).then(
    (svc) => closeOnSignals(logger, () => svc.close()),
    (err) => {
      logger.fatal({ err: (err as Error).message }, 'state failed to start');
      process.exit(1);
    },
  );
}
