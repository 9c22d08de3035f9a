import 'reflect-metadata';
import { createLogger, type Logger } from '@pdr/logging';
import { ensureJobStream, MetricsSettings, RunningService, startContractService, startMetricsServer } from '@pdr/messaging';
import { PlannerMetrics } from './infrastructure/metrics';
import { PlannerModule } from './planner.module';

export interface PlannerOptions {
  natsUrl?: string;
  ns?: string;
  logger?: Logger;
  /** Prometheus /metrics (off unless a port is given; see takeMetricsArgs). */
  metrics?: MetricsSettings;
}

/** Starts the planner (also in-process, for tests and `pdr up`): job stream ensured, subjects answered. */
export async function startPlanner(o: PlannerOptions = {}): Promise<RunningService & { metricsPort: number | null }> {
  const logger = o.logger ?? createLogger('planner');
  const metrics = o.metrics && o.metrics.port !== null ? new PlannerMetrics() : undefined;
  const svc = await startContractService({
    service: 'planner',
    logger,
    natsUrl: o.natsUrl,
    ns: o.ns,
    observe: metrics?.observe,
    module: async (infra) => {
      await ensureJobStream(infra.nc, infra.n);
      return PlannerModule.with(infra, metrics);
    },
  });
  if (!metrics) return { ...svc, close: () => svc.close(), metricsPort: null };
  try {
    const server = await startMetricsServer(metrics.registry, { ...o.metrics!, port: o.metrics!.port! }, logger);
    return {
      ...svc,
      metricsPort: server.port,
      async close() {
        await server.close();
        await svc.close();
      },
    };
  } catch (err) {
    await svc.close();
    throw err;
  }
}
