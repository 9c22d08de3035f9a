import 'reflect-metadata';
import { RequestContext } from '@mikro-orm/core';
import { backoff, withRetry } from '@pdr/contracts';
import { databaseSettingsFromEnv, natsSettingsFromEnv, type NatsConfig } from '@pdr/config';
import { createLogger, registerSecret, type Logger } from '@pdr/logging';
import { ContractClient, MetricsServer, MetricsSettings, RunningService, startContractService, startMetricsServer } from '@pdr/messaging';
import { createOrm, DatabaseSettings, describeDatabase, ensureDatabase, isDatabaseUnavailable, migrateUp, Orm, readInstallationId, DEFAULT_POOL_MAX } from '@pdr/persistence';
import { stateAdmission } from './infrastructure/admission';
import { classifyError } from './infrastructure/errors';
import { poolFigures, StateMetrics } from './infrastructure/metrics';
import { StateTimings, timingsFromEnv } from './infrastructure/options';
import { ProgressPublisher } from './infrastructure/progress';
import { Reconciler } from './reconciler/reconciler';
import { StateModule } from './state.module';

export interface StateServiceOptions {
  /** Database settings; default PDR_DB_* (and a config file's `database` section) via @pdr/config. */
  db?: DatabaseSettings;
  /** pdr_run YAML file whose `database` section applies (PDR_DB_* override it). */
  configFile?: string;
  /** Connection pool size (default: the config's pool_size, else 10). */
  poolMax?: number;
  /** NATS URL; default PDR_NATS_URL, else nats://127.0.0.1:4222. */
  natsUrl?: string;
  /** NATS authentication/TLS; default PDR_NATS_* and the config file's `nats` section. */
  natsSettings?: NatsConfig;
  /** Subject namespace; default PDR_NATS_PREFIX, else "pdr". */
  ns?: string;
  logger?: Logger;
  /** Timings (stale heartbeat, stale pending, reconcile interval); default LIMITS / PDR_<LIMIT>. */
  timings?: Partial<StateTimings>;
  /** Run the reconciler (default true). */
  reconcile?: boolean;
  /** How long to wait at start for a database that is not reachable yet (default 30 s; 0: fail at once). */
  waitForDatabaseMs?: number;
  /** Prometheus /metrics (off unless a port is given; see takeMetricsArgs). */
  metrics?: MetricsSettings;
}

export interface StateHandle {
  orm: Orm;
  service: RunningService;
  reconciler: Reconciler;
  settings: DatabaseSettings;
  /** The port /metrics is served on, when metrics are on. */
  metricsPort: number | null;
  close(): Promise<void>;
}

/** PDR_DB_* (and the optional config file) through @pdr/config, in the persistence library's shape. */
export function databaseSettings(env: NodeJS.ProcessEnv = process.env, configFile?: string): { settings: DatabaseSettings; poolMax?: number } {
  const c = databaseSettingsFromEnv(env, { file: configFile });
  return {
    settings: { host: c.host, port: c.port, user: c.username, password: c.password, database: c.database },
    poolMax: c.pool_size,
  };
}

/** Refused credentials or missing rights: waiting does not help. */
const FATAL_ERRNOS = new Set([1044, 1045, 1698]);

/** Waiting for MariaDB: first ask again after 250 ms (it is often just starting), doubling up to 5 s so a
 * slow start is not hammered; the whole wait is bounded by the caller's `waitForDatabaseMs`. */
const DATABASE_WAIT = { attempts: Infinity, delayMs: backoff.exponential(250, 5_000) } as const;

function errnoOf(err: unknown): number | undefined {
  for (let e = err as { errno?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as never, i++) {
    if (typeof e.errno === 'number') return e.errno;
  }
  return undefined;
}

/**
 * `ensureDatabase`, retried while the server is unreachable (services started together, e.g. by
 * `pdr up`, may be up before MariaDB); other errors (wrong password, no rights) fail at once.
 */
async function waitForDatabase(settings: DatabaseSettings, waitMs: number, logger: Logger): Promise<boolean> {
  return withRetry(() => ensureDatabase(settings), {
    ...DATABASE_WAIT,
    deadline: Date.now() + waitMs,
    retryable: (err) => {
      const errno = errnoOf(err);
      return isDatabaseUnavailable(err) && (errno === undefined || !FATAL_ERRNOS.has(errno));
    },
    onRetry: (err) => logger.warn({ database: describeDatabase(settings), err: (err as Error).message }, 'database not reachable yet; waiting'),
  });
}

/**
 * Starts the state service (also in-process, for tests and `pdr up`): creates the database if it is
 * missing, applies the migrations, answers every state.* subject (each message in its own
 * RequestContext fork of the entity manager) and runs the reconciler. `close()` stops in reverse.
 */
export async function startStateService(o: StateServiceOptions = {}): Promise<StateHandle> {
  const logger = o.logger ?? createLogger('state');
  const fromEnv = o.db ? undefined : databaseSettings(process.env, o.configFile);
  const settings = o.db ?? fromEnv!.settings;
  const timings: StateTimings = { ...timingsFromEnv(), ...o.timings };
  const created = await waitForDatabase(settings, o.waitForDatabaseMs ?? 30_000, logger);
  if (settings.password) registerSecret(settings.password);
  const poolMax = o.poolMax ?? fromEnv?.poolMax ?? DEFAULT_POOL_MAX;
  const orm = await createOrm(settings, {
    poolMax,
    multipleStatements: true, // claim, finish and steps are packets (packetTransaction)
    log: (level, message) => logger[level]({ component: 'db' }, message),
  });
  let reconciler: Reconciler | undefined;
  let metrics: StateMetrics | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    const applied = await migrateUp(orm, { warn: (message) => logger.warn({ database: describeDatabase(settings) }, message) });
    const installationId = await readInstallationId(orm.em);
    logger.info({ database: describeDatabase(settings), created, migrations: applied, installationId }, 'database ready');
    let progress!: ProgressPublisher;
    const service = await startContractService({
      service: 'state',
      logger,
      natsUrl: o.natsUrl,
      natsSettings: o.natsSettings ?? natsSettingsFromEnv(process.env, { file: o.configFile }),
      ns: o.ns,
      around: (fn) => RequestContext.create(orm.em, fn),
      admission: stateAdmission(poolMax),
      classifyError: (err) => {
        const reply = classifyError(err);
        // a heartbeat that could not be recorded must not count as the runner's silence
        if (reply?.error.code === 'UNAVAILABLE') {
          reconciler?.markBlind();
          metrics?.connectionErrors.inc({ kind: 'unavailable' });
        }
        return reply;
      },
      observe: (rpc, seconds, outcome) => metrics?.observeRequest(rpc, seconds, outcome),
      detail: () => ({ pool: poolFigures(orm), database: describeDatabase(settings), reconciledAt: reconciler?.lastRunAt ?? null, reconcileError: reconciler?.lastError ?? null }),
      module: async (infra) => {
        if (o.metrics && o.metrics.port !== null) metrics = new StateMetrics(orm, infra.nc, infra.n);
        progress = new ProgressPublisher(infra.nc, infra.n, logger, metrics?.transitions);
        return StateModule.with(infra, progress, timings, installationId);
      },
    });
    reconciler = new Reconciler(orm, new ContractClient(service.infra.nc, service.infra.ns), installationId, progress, logger, timings);
    if (metrics) {
      const m = metrics;
      reconciler.onResult = (r) => m.reconciled(r);
      try {
        metricsServer = await startMetricsServer(m.registry, { ...o.metrics!, port: o.metrics!.port! }, logger);
      } catch (err) {
        await service.close();
        throw err;
      }
    }
    if (o.reconcile !== false) reconciler.start();
    const r = reconciler;
    void (async () => {
      for await (const st of service.infra.nc.status()) {
        if (st.type === 'disconnect') r.setDeaf(true);
        else if (st.type === 'reconnect') r.setDeaf(false);
      }
    })().catch(() => undefined);
    let closed = false;
    return {
      orm,
      service,
      reconciler: r,
      settings,
      metricsPort: metricsServer?.port ?? null,
      async close() {
        if (closed) return;
        closed = true;
        await metricsServer?.close();
        await r.stop();
        await service.close();
        await orm.close(true);
      },
    };
  } catch (err) {
    await metricsServer?.close();
    await reconciler?.stop();
    await orm.close(true);
    throw err;
  }
}
