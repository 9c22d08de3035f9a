import { createLogger } from '@pdr/logging';
import { closeOnSignals } from '@pdr/messaging';
import { startPlanner } from './start-planner';

export { startPlanner, type PlannerHandle, type PlannerOptions } from './start-planner';

if (require.main === module) {
  const logger = createLogger('planner');
  startPlanner({ logger }).then(
    (svc) => closeOnSignals(logger, () => svc.close()),
    (err) => {
      logger.fatal({ err: (err as Error).message }, 'planner failed to start');
      process.exit(1);
    },
  );
}
