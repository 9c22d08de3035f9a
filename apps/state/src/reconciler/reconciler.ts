import { DispatchJob } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { PeriodicTask, type ContractClient } from '@pdr/messaging';
import { LockMode, raw, type EntityData } from '@mikro-orm/core';
import { bumpVersion, closeTimesFields, dbNow, Em, isDatabaseUnavailable, JobAttempt, Orm, PdrModelJob, type PdrModelJobRow, STALE_RUNNING_SQL, statusFields, transaction } from '@pdr/persistence';
import type { StateTimings } from '../infrastructure/options';
import type { ProgressPublisher } from '../infrastructure/progress';

/** Jobs handled per kind and sweep; a sweep repeats until a batch comes back short. */
const BATCH = 500;

export interface ReconcileResult {
  /** Running jobs with a dead heartbeat put back to pending with a new generation (the planner publishes them). */
  requeued: number;
  /** Running jobs with a dead heartbeat whose cancellation was requested: now cancelled. */
  cancelled: number;
}

interface Candidate {
  id: number;
  grid_id: number | null;
  generation: number;
  attempt: number;
  runner_id: string | null;
  cancel_requested: number;
}

/**
 * The lost-run sweeper (DESIGN "Delivery and idempotency"), at start and every reconcileIntervalMs:
 * running jobs whose heartbeat is older than staleHeartbeatMs → pending with generation + 1 (their
 * attempt closed as failed), cancelled instead when the user asked for it. The requeued jobs are handed
 * to the planner (`plannerDispatch`), the one publisher of job events; when no planner answers they stay
 * pending and the planners' dispatch sweep publishes them after STALE_PENDING_MS (as it does for jobs a
 * crashed planner left pending). Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED and changed with
 * conditional UPDATEs in the same short transaction, so two state instances never act on the same job.
 */
export class Reconciler {
  private readonly periodic: PeriodicTask<ReconcileResult>;
  /** Told of every sweep's result (undefined: the sweep failed), for metrics. */
  onResult?: (r: ReconcileResult | undefined) => void;
  /**
   * Since when this instance could hear and record heartbeats without a break. Heartbeats sent while it
   * was starting, or while its database or NATS was away, were lost through no fault of the runners:
   * a running job counts as dead only after a whole stale window of listening (else every model running
   * during a state restart or a database outage longer than the window was killed and run again).
   */
  private listeningSince = Date.now();
  private deaf = false;

  constructor(
    private readonly orm: Orm,
    private readonly planner: ContractClient,
    private readonly installationId: string,
    private readonly progress: ProgressPublisher,
    private readonly logger: Logger,
    private readonly timings: StateTimings,
  ) {
    this.periodic = new PeriodicTask({
      name: 'reconciler sweep',
      intervalMs: timings.reconcileIntervalMs,
      run: () => this.runOnce(),
      onSuccess: (r) => {
        if (r.requeued || r.cancelled) this.logger.info({ ...r }, 'reconciler acted');
        this.onResult?.(r);
      },
      onFailure: (err) => {
        if (isDatabaseUnavailable(err)) this.markBlind();
        this.onResult?.(undefined);
      },
      logger,
    });
  }

  /** When the last sweep that succeeded ended (ISO), null before the first. */
  get lastRunAt(): string | null {
    return this.periodic.lastRunAt;
  }

  /** The last sweep's error, null after one that succeeded. */
  get lastError(): string | null {
    return this.periodic.lastError;
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Heartbeats may have been lost just now (database unreachable): the stale window starts again. */
  markBlind(): void {
    this.listeningSince = Date.now();
  }

  /** NATS disconnected (true) / reconnected (false): no running job is judged while heartbeats cannot arrive. */
  setDeaf(deaf: boolean): void {
    this.deaf = deaf;
    this.markBlind();
  }

  private canJudgeRunning(): boolean {
    return !this.deaf && Date.now() - this.listeningSince >= this.timings.staleHeartbeatMs;
  }

  /** One sweep unless one is in progress (then waits for that one). */
  tick(): Promise<ReconcileResult | undefined> {
    return this.periodic.tick();
  }

  async runOnce(): Promise<ReconcileResult> {
    const em = this.orm.em.fork() as Em;
    const result: ReconcileResult = { requeued: 0, cancelled: 0 };
    for (;;) {
      if (!this.canJudgeRunning()) break;
      const r = await transaction(em, (tem) => this.takeStaleRunning(tem));
      result.requeued += r.requeued.length;
      result.cancelled += r.cancelled.length;
      await this.progress.publishJobs(em, [...r.cancelled, ...r.requeued.map((j) => j.id)]);
      await this.handToPlanner(r.requeued);
      if (r.seen < BATCH) break;
    }
    return result;
  }

  private async takeStaleRunning(em: Em): Promise<{ requeued: Candidate[]; cancelled: number[]; seen: number }> {
    const staleUs = this.timings.staleHeartbeatMs * 1000;
    const rows = await em
      .createQueryBuilder(PdrModelJob)
      .select(['id', 'grid_id', 'generation', 'attempt', 'runner_id', 'cancel_requested'])
      .where(STALE_RUNNING_SQL, [staleUs])
      .orderBy({ id: 'asc' })
      .limit(BATCH)
      .setLockMode(LockMode.PESSIMISTIC_PARTIAL_WRITE) // FOR UPDATE SKIP LOCKED
      .execute<Candidate[]>('all', false);
    // the compare-and-set: still running with a stale heartbeat (the rows are locked, so it still holds)
    const updateStale = (ids: number[], data: EntityData<PdrModelJobRow>) =>
      em.createQueryBuilder(PdrModelJob).update(data).where({ id: { $in: ids } }).andWhere(STALE_RUNNING_SQL, [staleUs]).execute('run');
    const toCancel = rows.filter((r) => r.cancel_requested);
    const toRequeue = rows.filter((r) => !r.cancel_requested);
    let cancelled: number[] = [];
    let requeued: Candidate[] = [];
    if (toCancel.length) {
      const ids = toCancel.map((r) => r.id);
      const res = await updateStale(ids, {
        ...statusFields('cancelled'),
        ...bumpVersion(),
        heartbeat_at: null,
        reason: 'cancelled by the user; its runner stopped answering',
        ...closeTimesFields(),
      });
      // the rows are locked by the SELECT above, so the conditions still hold: all of them changed
      if (res.affectedRows !== ids.length) throw new Error(`reconciler: ${res.affectedRows} of ${ids.length} stale cancelled jobs changed`);
      cancelled = ids;
    }
    if (toRequeue.length) {
      const ids = toRequeue.map((r) => r.id);
      const res = await updateStale(ids, {
        ...statusFields('pending'),
        generation: raw('generation + 1'),
        ...bumpVersion(),
        heartbeat_at: null,
        queued_at: null,
        reason: raw("CONCAT('requeued: the heartbeat of attempt ', attempt, ' (', COALESCE(runner_id, 'unknown runner'), ') stopped')"),
      });
      if (res.affectedRows !== ids.length) throw new Error(`reconciler: ${res.affectedRows} of ${ids.length} stale running jobs changed`);
      for (const r of toRequeue) r.generation += 1;
      requeued = toRequeue;
    }
    if (rows.length) {
      // each job's current attempt (attempt is not changed above) is closed as failed
      await em.nativeUpdate(
        JobAttempt,
        { $or: rows.map((r) => ({ job_id: r.id, attempt: r.attempt })), finished_at: null },
        { status: 'failed', finished_at: dbNow(), reason: 'heartbeat lost (reconciler)' },
      );
    }
    return { requeued, cancelled, seen: rows.length };
  }

  /** Asks a planner to publish the requeued jobs now; without an answer the dispatch sweep takes them later. */
  private async handToPlanner(jobs: Candidate[]): Promise<void> {
    const withGrid = jobs.filter((j): j is Candidate & { grid_id: number } => j.grid_id !== null);
    if (!withGrid.length) return;
    const batch: DispatchJob[] = withGrid.map((j) => [j.id, j.grid_id, j.generation]);
    try {
      await this.planner.request('plannerDispatch', { v: 1, installationId: this.installationId, jobs: batch });
    } catch (err) {
      this.logger.warn({ jobs: batch.length, err: (err as Error).message }, 'no planner took the requeued jobs; the dispatch sweep publishes them');
    }
  }
}
