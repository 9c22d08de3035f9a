import 'reflect-metadata';
import { mkdir } from 'fs/promises';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { backoff, gridCancelledEvent, limitFromEnv, names, Names, namespaceFromEnv, withRetry } from '@pdr/contracts';
import type { NatsConfig } from '@pdr/config';
import { createLogger, type Logger } from '@pdr/logging';
import { answerHealth, connectNats, ContractClient, decodeJson, ensureJobStream, isPermissionViolation, JobStreamSettings, MetricsServer, MetricsSettings, newInstanceId, startMetricsServer } from '@pdr/messaging/client';
import type { NatsConnection } from 'nats';
import { closeStorageConnections, filesystemKind } from '@pdr/storage';
import { JobConsumer, SelfStop } from './consume/job-consumer';
import { allocationEnd, WalltimeGuard } from './consume/walltime';
import { JobHandler } from './consume/handle-job';
import { JobDirPool } from './execution';
import { RunnerMetrics } from './consume/metrics';
import { ProvenanceCache } from './prepare/provenance';
import { RUNNER_LIMITS } from './consume/limits';

export interface RunnerOptions {
  natsUrl?: string;
  /** NATS authentication/TLS; default PDR_NATS_*. */
  natsSettings?: NatsConfig;
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
  /** Stop by itself after this long with nothing to pull (pilot jobs); default never. */
  idleExitMs?: number;
  /** End of this runner's allocation (ms since the epoch); default: SLURM_JOB_END_TIME or squeue, else none. */
  endsAt?: number | null;
}

export interface RunningRunner {
  runnerId: string;
  close(graceMs?: number): Promise<void>;
  busy(): number;
  /** The port /metrics is served on, when metrics are on. */
  metricsPort: number | null;
  /** Claim nothing more; running jobs finish (Slurm's warning signal). */
  drain(): void;
  /** Resolves when the runner stopped pulling by itself (idle, no time left, drained) and its jobs ended. */
  done: Promise<SelfStop>;
  /** End of the allocation this runner knows of (ms since the epoch), or null. */
  endsAt: number | null;
}

/**
 * A runner with its own role's credentials may not create the job stream (state or planner does,
 * deploy/nats/nats-server.conf): it waits until one of them has.
 */
async function ensureJobStreamOrWait(nc: NatsConnection, n: Names, s: JobStreamSettings, logger: Logger): Promise<void> {
  await withRetry(() => ensureJobStream(nc, n, s), {
    // no limit on tries: the runner has nothing to do until the stream exists; a closed connection ends it
    attempts: Infinity,
    delayMs: backoff.constant(RUNNER_LIMITS.STREAM_WAIT_MS),
    retryable: (err) => isPermissionViolation(err) && !nc.isClosed(),
    onRetry: (_err, tries) => {
      if (tries === 1) logger.warn({ stream: n.jobStream }, 'the job stream does not exist yet and this runner may not create it: waiting for state or planner');
    },
  });
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
  const nc = await connectNats({ url: o.natsUrl, name: runnerId, settings: o.natsSettings });
  const maxDeliver = o.maxDeliver ?? limitFromEnv('JOB_MAX_DELIVER');
  const streamSettings: JobStreamSettings = { ackWaitMs: o.ackWaitMs, maxDeliver, warn: (msg: string, detail: Record<string, unknown>) => logger.warn(detail, msg) };
  await ensureJobStreamOrWait(nc, n, streamSettings, logger);
  const running = { count: () => 0 };
  const metrics = o.metrics && o.metrics.port !== null ? new RunnerMetrics(() => ({ busy: running.count(), total: o.concurrency })) : undefined;
  const jobDirs = new JobDirPool(workRoot, o.concurrency);
  const swept = jobDirs.sweepDead();
  if (swept.length) logger.info({ workRoot, removed: swept }, 'removed the parked job directories of runners of this host that are gone');
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
    jobDirs,
  });
  running.count = () => handler.busy;
  const endsAt = o.endsAt !== undefined ? o.endsAt : await allocationEnd();
  const client = new ContractClient(nc, ns);
  const guard = new WalltimeGuard({
    endsAt,
    estimate: async (gridIds) => (await client.request('jobsEstimate', { v: 1, gridIds: gridIds ?? null })).grids,
    logger,
  });
  if (endsAt !== null) logger.info({ endsAt: new Date(endsAt).toISOString() }, 'allocation end known: no job is claimed that cannot finish before it');
  const consumer = new JobConsumer(nc, n, handler, o.concurrency, logger, () => ensureJobStream(nc, n, streamSettings), { guard, idleExitMs: o.idleExitMs });
  const startedAt = new Date().toISOString();
  const health = answerHealth(nc, ns, {
    service: 'runner',
    instanceId: runnerId,
    version: '0.1.0',
    startedAt,
    detail: () => ({
      slots: o.concurrency,
      busy: handler.busy,
      workRoot,
      draining: guard.draining,
      claiming: consumer.claiming,
      idleMs: consumer.idleMs,
      endsAt: endsAt === null ? null : new Date(endsAt).toISOString(),
      slurmJobId: process.env.SLURM_JOB_ID ?? null,
    }),
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
    busy: () => handler.busy,
    metricsPort: metricsServer?.port ?? null,
    endsAt,
    done: consumer.done,
    drain() {
      if (!guard.draining) logger.info({ runnerId }, 'draining: running jobs finish, no new ones are claimed');
      guard.draining = true;
    },
    async close(graceMs?: number) {
      if (closed) return;
      closed = true;
      await consumer.stop(graceMs);
      jobDirs.close();
      await metricsServer?.close();
      await closeStorageConnections().catch(() => undefined);
      health.unsubscribe();
      cancelSub.unsubscribe();
      await nc.drain().catch(() => undefined);
      logger.info({ runnerId }, 'runner stopped');
    },
  };
}
