import { JOB_STATUSES, Names } from '@pdr/contracts';
import { Gauge, LATENCY_BUCKETS, metricsOn, newRegistry, Registry, requestMetrics } from '@pdr/messaging';
import type { Orm } from '@pdr/persistence';
import type { NatsConnection } from 'nats';
import type { ReconcileResult } from '../reconciler/reconciler';

/** The pool of knex (tarn) under MikroORM: what the gauges read and the acquire events come from. */
interface TarnPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  on(event: 'acquireRequest' | 'acquireSuccess' | 'acquireFail' | 'createFail', fn: (eventId: number, arg?: unknown) => void): void;
}

export function poolOf(orm: Orm): TarnPool | null {
  const knex = (orm.em.getConnection() as unknown as { getKnex(): { client: { pool?: TarnPool } } }).getKnex();
  return knex.client.pool ?? null;
}

/** Pool figures for `pdr health` (and the gauges). */
export function poolFigures(orm: Orm): { size: number; used: number; free: number; pendingAcquires: number } | null {
  const p = poolOf(orm);
  return p ? { size: p.max, used: p.numUsed(), free: p.numFree(), pendingAcquires: p.numPendingAcquires() } : null;
}

/** How long a scrape may reuse the job consumer's figures (one JetStream request per scrape at most). */
const CONSUMER_INFO_TTL_MS = 1_000;

/**
 * The state service's metrics: database pool (size, in use, free, pending acquires, acquire wait,
 * connection errors), request latency per subject, job transitions per new status, reconciler actions,
 * and the job consumer's backlog as JetStream reports it.
 */
export class StateMetrics {
  readonly registry: Registry = newRegistry('state');
  readonly observeRequest = requestMetrics(this.registry);
  private readonly m = metricsOn(this.registry);
  readonly transitions = this.m.counter(
    'pdr_state_job_transitions_total',
    'jobs that changed to this status (one per job and change, as published in progress events)',
    ['status'],
    JOB_STATUSES,
  );
  readonly reconcilerActions = this.m.counter(
    'pdr_state_reconciler_actions_total',
    'jobs the reconciler acted on: requeued (dead heartbeat: back to pending, handed to the planner), cancelled (dead heartbeat, cancel requested)',
    ['action'],
    ['requeued', 'cancelled'],
  );
  readonly reconcilerSweeps = this.m.counter('pdr_state_reconciler_sweeps_total', 'reconciler sweeps by result', ['result']);
  readonly connectionErrors = this.m.counter(
    'pdr_state_db_connection_errors_total',
    'database connections that could not be opened, and requests answered UNAVAILABLE because the database was not reachable',
    ['kind'],
    ['connect', 'unavailable'],
  );
  readonly acquireWait = this.m.histogram('pdr_state_db_pool_acquire_wait_seconds', 'time a request waited for a pooled database connection', LATENCY_BUCKETS);
  private consumerInfo: { at: number; value: Promise<{ pending: number; ackPending: number; redelivered: number; waiting: number } | null> } | null = null;

  constructor(orm: Orm, nc: NatsConnection, n: Names) {
    const pool = poolOf(orm);
    const gauge = (name: string, help: string, read: (p: TarnPool) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = poolOf(orm);
          if (p) this.set(read(p));
        },
      });
    gauge('pdr_state_db_pool_size', 'most connections the pool opens (pool_size)', (p) => p.max);
    gauge('pdr_state_db_pool_in_use', 'connections lent to a request right now', (p) => p.numUsed());
    gauge('pdr_state_db_pool_free', 'open connections waiting for a request', (p) => p.numFree());
    gauge('pdr_state_db_pool_pending_acquires', 'requests waiting for a connection (the pool is exhausted while > 0)', (p) => p.numPendingAcquires());
    gauge('pdr_state_db_pool_pending_creates', 'connections being opened', (p) => p.numPendingCreates());
    if (pool) {
      const started = new Map<number, bigint>();
      pool.on('acquireRequest', (id) => started.set(id, process.hrtime.bigint()));
      const done = (id: number) => {
        const t = started.get(id);
        started.delete(id);
        if (t !== undefined) this.acquireWait.observe(Number(process.hrtime.bigint() - t) / 1e9);
      };
      pool.on('acquireSuccess', done);
      pool.on('acquireFail', done);
      pool.on('createFail', () => this.connectionErrors.inc({ kind: 'connect' }));
    }
    const info = () => {
      const now = Date.now();
      if (!this.consumerInfo || now - this.consumerInfo.at > CONSUMER_INFO_TTL_MS) {
        this.consumerInfo = {
          at: now,
          value: nc
            .jetstreamManager({ timeout: 2_000 })
            .then((jsm) => jsm.consumers.info(n.jobStream, n.jobConsumer))
            .then((c) => ({ pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered, waiting: c.num_waiting }))
            .catch(() => null),
        };
      }
      return this.consumerInfo.value;
    };
    const js = (name: string, help: string, read: (c: NonNullable<Awaited<ReturnType<typeof info>>>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const c = await info();
          if (c) this.set(read(c));
        },
      });
    js('pdr_jetstream_job_consumer_pending', 'job events in the stream not yet delivered to a runner (the queue)', (c) => c.pending);
    js('pdr_jetstream_job_consumer_in_flight', 'job events delivered and not yet acknowledged (running or about to)', (c) => c.ackPending);
    js('pdr_jetstream_job_consumer_redelivered', 'job events delivered more than once and not yet acknowledged', (c) => c.redelivered);
    js('pdr_jetstream_job_consumer_waiting_pulls', 'pull requests of runners waiting for a job (free slots)', (c) => c.waiting);
  }

  reconciled(r: ReconcileResult | undefined): void {
    this.reconcilerSweeps.inc({ result: r ? 'ok' : 'failed' });
    if (!r) return;
    this.reconcilerActions.inc({ action: 'requeued' }, r.requeued);
    this.reconcilerActions.inc({ action: 'cancelled' }, r.cancelled);
  }
}
