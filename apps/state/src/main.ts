import { createLogger } from '@pdr/logging';
import { closeOnSignals } from '@pdr/messaging';
import { startStateService } from './start-state';

export { startStateService, databaseSettings } from './start-state';
export type { StateHandle, StateServiceOptions } from './start-state';
export { Reconciler } from './reconciler/reconciler';

/** `node apps/state/dist/main.js`: PDR_DB_*, PDR_NATS_URL, PDR_NATS_PREFIX; SIGTERM/SIGINT close gracefully. */
if (require.main === module) {
  const logger = createLogger('state');
  startStateService({ logger }).then(
    (svc) => closeOnSignals(logger, () => svc.close()),
    (err) => {
      logger.fatal({ err: (err as Error).message }, 'state failed to start');
      process.exit(1);
    },
  );
}
