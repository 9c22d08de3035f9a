import 'reflect-metadata';
import type { NatsConfig } from '@pdr/config';
import { createLogger, type Logger } from '@pdr/logging';
import { ContractClient, ensureJobStream, JobStream, MetricsSettings, RunningService, startContractService, startMetricsServer } from '@pdr/messaging';
import { DispatchSweep, SweepTimings, sweepTimingsFromEnv } from './dispatch/dispatch-sweep';
import { JobDispatcher } from './dispatch/job-dispatcher';
import { MeasuredJobStream, PlannerMetrics } from './infrastructure/metrics';
import { PlannerModule } from './planner.module';

export interface PlannerOptions {
  natsUrl?: string;
  /** NATS authentication/TLS; default PDR_NATS_*. */
  natsSettings?: NatsConfig;
  ns?: string;
  logger?: Logger;
  /** Dispatch sweep timings; default LIMITS / PDR_DISPATCH_SWEEP_INTERVAL_MS, PDR_STALE_PENDING_MS. */
  timings?: Partial<SweepTimings>;
  /** Run the dispatch sweep (default true). */
  sweep?: boolean;
  /** Prometheus /metrics (off unless a port is given; see takeMetricsArgs). */
  metrics?: MetricsSettings;
}

export interface PlannerHandle extends RunningService {
  sweep: DispatchSweep;
  metricsPort: number | null;
}

/** Starts the planner (also in-process, for tests and `pdr up`): job stream ensured, subjects answered, dispatch sweep running. */
export async function startPlanner(o: PlannerOptions = {}): Promise<PlannerHandle> {
  const logger = o.logger ?? createLogger('planner');
  const timings: SweepTimings = { ...sweepTimingsFromEnv(), ...o.timings };
  const metrics = o.metrics && o.metrics.port !== null ? new PlannerMetrics() : undefined;
  let sweep!: DispatchSweep;
  const service = await startContractService({
    service: 'planner',
    logger,
    natsUrl: o.natsUrl,
    natsSettings: o.natsSettings,
    ns: o.ns,
    detail: () => ({ dispatchError: sweep?.lastError ?? null }),
    observe: metrics?.observe,
    module: async (infra) => {
      const warn = (msg: string, detail: Record<string, unknown>) => logger.warn(detail, msg);
      await ensureJobStream(infra.nc, infra.n, { warn });
      const client = new ContractClient(infra.nc, infra.ns);
      const stream = metrics ? new MeasuredJobStream(infra.nc, infra.n, metrics) : new JobStream(infra.nc, infra.n);
      const dispatcher = new JobDispatcher(client, stream, logger);
      sweep = new DispatchSweep(infra.nc, infra.n, client, stream, dispatcher, logger, timings, { warn });
      return PlannerModule.with(infra, { client, stream, dispatcher });
    },
  });
  let server: Awaited<ReturnType<typeof startMetricsServer>> | null = null;
  if (metrics) {
    try {
      server = await startMetricsServer(metrics.registry, { ...o.metrics!, port: o.metrics!.port! }, logger);
    } catch (err) {
      await service.close();
      throw err;
    }
  }
  if (o.sweep !== false) sweep.start();
  return {
    ...service,
    sweep,
    metricsPort: server?.port ?? null,
    async close() {
      await sweep.stop();
      await server?.close();
      await service.close();
    },
  };
}
