import 'reflect-metadata';
import { createLogger, type Logger } from '@pdr/logging';
import { ContractClient, ensureJobStream, JobStream, RunningService, startContractService } from '@pdr/messaging';
import { DispatchSweep, SweepTimings, sweepTimingsFromEnv } from './dispatch/dispatch-sweep';
import { JobDispatcher } from './dispatch/job-dispatcher';
import { PlannerModule } from './planner.module';

export interface PlannerOptions {
  natsUrl?: string;
  ns?: string;
  logger?: Logger;
  /** Dispatch sweep timings; default LIMITS / PDR_DISPATCH_SWEEP_INTERVAL_MS, PDR_STALE_PENDING_MS. */
  timings?: Partial<SweepTimings>;
  /** Run the dispatch sweep (default true). */
  sweep?: boolean;
}

export interface PlannerHandle extends RunningService {
  sweep: DispatchSweep;
}

/** Starts the planner (also in-process, for tests and `pdr up`): job stream ensured, subjects answered, dispatch sweep running. */
export async function startPlanner(o: PlannerOptions = {}): Promise<PlannerHandle> {
  const logger = o.logger ?? createLogger('planner');
  const timings: SweepTimings = { ...sweepTimingsFromEnv(), ...o.timings };
  let sweep!: DispatchSweep;
  const service = await startContractService({
    service: 'planner',
    logger,
    natsUrl: o.natsUrl,
    ns: o.ns,
    detail: () => ({ dispatchError: sweep?.lastError ?? null }),
    module: async (infra) => {
      const warn = (msg: string, detail: Record<string, unknown>) => logger.warn(detail, msg);
      await ensureJobStream(infra.nc, infra.n, { warn });
      const client = new ContractClient(infra.nc, infra.ns);
      const stream = new JobStream(infra.nc, infra.n);
      const dispatcher = new JobDispatcher(client, stream, logger);
      sweep = new DispatchSweep(infra.nc, infra.n, client, stream, dispatcher, logger, timings, { warn });
      return PlannerModule.with(infra, { client, stream, dispatcher });
    },
  });
  if (o.sweep !== false) sweep.start();
  return {
    ...service,
    sweep,
    async close() {
      await sweep.stop();
      await service.close();
    },
  };
}
