import 'reflect-metadata';
import { mkdir } from 'fs/promises';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { gridCancelledEvent, limitFromEnv, names, namespaceFromEnv } from '@pdr/contracts';
import { createLogger, type Logger } from '@pdr/logging';
import { answerHealth, connectNats, ContractClient, decodeJson, ensureJobStream, MetricsServer, MetricsSettings, natsUrlFromEnv, newInstanceId, startMetricsServer } from '@pdr/messaging';
import { closeStorageConnections, filesystemKind } from '@pdr/storage';
import { JobConsumer } from './consume/job-consumer';
import { JobHandler } from './consume/handle-job';
import { RunnerMetrics } from './consume/metrics';
import { ProvenanceCache } from './prepare/provenance';

export interface RunnerOptions {
  natsUrl?: string;
  ns?: string;
  concurrency: number;
  workRoot?: string;
  logger?: Logger;
  /** Faster heartbeats and retries (tests); default PDR_HEARTBEAT_INTERVAL_MS etc., else LIMITS. */
  heartbeatMs?: number;
  retryDelayMs?: number;
  ackWaitMs?: number;
  maxDeliver?: number;
  /** Prometheus /metrics (off unless a port is given; see takeMetricsArgs). */
  metrics?: MetricsSettings;
}

export interface RunningRunner {
  runnerId: string;
  close(graceMs?: number): Promise<void>;
  busy(): number;
  /** The port /metrics is served on, when metrics are on. */
  metricsPort: number | null;
}

/** Starts a runner: `concurrency` slots pulling from the shared job consumer. */
export async function startRunner(o: RunnerOptions): Promise<RunningRunner> {
  const logger = o.logger ?? createLogger('runner');
  const ns = o.ns ?? namespaceFromEnv();
  const n = names(ns);
  const runnerId = newInstanceId('runner');
  const workRoot = resolve(o.workRoot ?? join(tmpdir(), 'pdr-runner'));
  await mkdir(workRoot, { recursive: true });
  const workFs = filesystemKind(workRoot);
  if (!workFs.local) {
    logger.warn(
      { workRoot, filesystem: workFs.name },
      'the work dir is not on a local filesystem: job directories are laid out with synchronous calls there, so a slow or hanging file server stalls this runner; use --work-dir on local scratch',
    );
  }
  const nc = await connectNats({ url: o.natsUrl ?? natsUrlFromEnv(), name: runnerId });
  const maxDeliver = o.maxDeliver ?? limitFromEnv('JOB_MAX_DELIVER');
  const streamSettings = { ackWaitMs: o.ackWaitMs, maxDeliver, warn: (msg: string, detail: Record<string, unknown>) => logger.warn(detail, msg) };
  await ensureJobStream(nc, n, streamSettings);
  const running = { count: () => 0 };
  const metrics = o.metrics && o.metrics.port !== null ? new RunnerMetrics(() => ({ busy: running.count(), total: o.concurrency })) : undefined;
  const handler = new JobHandler({
    state: new ContractClient(nc, ns),
    runnerId,
    workRoot,
    maxDeliver,
    logger,
    provenance: new ProvenanceCache(),
    heartbeatMs: o.heartbeatMs ?? limitFromEnv('HEARTBEAT_INTERVAL_MS'),
    retryDelayMs: o.retryDelayMs ?? limitFromEnv('TRANSIENT_RETRY_DELAY_MS'),
    metrics,
  });
  running.count = () => handler.running.size;
  const consumer = new JobConsumer(nc, n, handler, o.concurrency, logger, () => ensureJobStream(nc, n, streamSettings));
  const startedAt = new Date().toISOString();
  const health = answerHealth(nc, ns, {
    service: 'runner',
    instanceId: runnerId,
    version: '0.1.0',
    startedAt,
    detail: () => ({ slots: o.concurrency, busy: handler.running.size, workRoot }),
  });
  // a cancelled grid with --kill: stop its running jobs now (the heartbeat reply would, a little later)
  const cancelSub = nc.subscribe(n.gridCancelled, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const ev = gridCancelledEvent.parse(decodeJson(msg.data));
        if (!ev.kill) return;
        for (const j of handler.running.values()) if (j.gridId === ev.gridId) j.abort('cancel');
      } catch {
        /* malformed events are ignored */
      }
    },
  });
  let metricsServer: MetricsServer | undefined;
  if (metrics) {
    try {
      metricsServer = await startMetricsServer(metrics.registry, { ...o.metrics!, port: o.metrics!.port! }, logger);
    } catch (err) {
      health.unsubscribe();
      cancelSub.unsubscribe();
      await nc.drain().catch(() => undefined);
      throw err;
    }
  }
  await consumer.start();
  logger.info({ runnerId, ns, slots: o.concurrency, workRoot }, 'runner pulling jobs');
  let closed = false;
  return {
    runnerId,
    busy: () => handler.running.size,
    metricsPort: metricsServer?.port ?? null,
    async close(graceMs?: number) {
      if (closed) return;
      closed = true;
      await consumer.stop(graceMs);
      await metricsServer?.close();
      await closeStorageConnections().catch(() => undefined);
      health.unsubscribe();
      cancelSub.unsubscribe();
      await nc.drain().catch(() => undefined);
      logger.info({ runnerId }, 'runner stopped');
    },
  };
}
