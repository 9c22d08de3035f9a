import { createLogger } from '@pdr/logging';
import { closeOnSignals, stopWhenSupervisorGone, takeMetricsArgs } from '@pdr/messaging';
import { startPlanner } from './start-planner';

export { startPlanner, type PlannerHandle, type PlannerOptions } from './start-planner';

if (require.main === module) {
  const logger = createLogger('planner');
  stopWhenSupervisorGone(); // `pdr up` gone (even SIGKILLed): stop as on SIGTERM
  let metrics;
  try {
    const { metrics: m, rest } = takeMetricsArgs(process.argv.slice(2));
    if (rest.length) throw new Error(`unknown arguments "${rest.join(' ')}" (usage: main.js [--metrics-port N])`);
    metrics = m;
  } catch (err) {
    process.stderr.write(`planner: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  startPlanner({ logger, metrics }).then(
    (svc) => closeOnSignals(logger, () => svc.close()),
    (err) => {
      logger.fatal({ err: (err as Error).message }, 'planner failed to start');
      process.exit(1);
    },
  );
}
