import 'reflect-metadata';
import type { NatsConfig } from '@pdr/config';
import { createLogger, type Logger } from '@pdr/logging';
import { ensureJobStream, RunningService, startContractService } from '@pdr/messaging';
import { PlannerModule } from './planner.module';

export interface PlannerOptions {
  natsUrl?: string;
  /** NATS authentication/TLS; default PDR_NATS_*. */
  natsSettings?: NatsConfig;
  ns?: string;
  logger?: Logger;
}

/** Starts the planner (also in-process, for tests and `pdr up`): job stream ensured, subjects answered. */
export async function startPlanner(o: PlannerOptions = {}): Promise<RunningService> {
  const logger = o.logger ?? createLogger('planner');
  return startContractService({
    service: 'planner',
    logger,
    natsUrl: o.natsUrl,
    natsSettings: o.natsSettings,
    ns: o.ns,
    module: async (infra) => {
      await ensureJobStream(infra.nc, infra.n);
      return PlannerModule.with(infra);
    },
  });
}
