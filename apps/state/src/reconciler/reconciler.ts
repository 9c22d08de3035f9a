import { JobEvent } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import type { JobPublisher } from '@pdr/messaging';
import { all, chunk, CLOSE_TIMES_SQL, Em, inList, isDatabaseUnavailable, Orm, run, setStatusSql, transaction } from '@pdr/persistence';
import type { StateTimings } from '../infrastructure/options';
import type { ProgressPublisher } from '../infrastructure/progress';
import { pendingToQueued } from '../points/mark-queued';

/** Jobs handled per kind and sweep; a sweep repeats until a batch comes back short. */
const BATCH = 500;

export interface ReconcileResult {
  /** Running jobs with a dead heartbeat put back to pending with a new generation (and published). */
  requeued: number;
  /** Running jobs with a dead heartbeat whose cancellation was requested: now cancelled. */
  cancelled: number;
  /** Pending jobs whose event was published again (same generation: Nats-Msg-Id dedupes). */
  republished: number;
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
 *  - running jobs whose heartbeat is older than staleHeartbeatMs → pending with generation + 1 (their
 *    attempt closed as failed), their event published again, then queued; cancelled instead when the
 *    user asked for it;
 *  - pending jobs untouched for stalePendingMs (the planner died between persisting and publishing)
 *    → their event published again with the same generation, then queued.
 * Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED and changed with conditional UPDATEs in the
 * same short transaction, so two state instances never act on the same job. A job left pending by a
 * failed publish is simply picked up by the next sweep.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<ReconcileResult | undefined> | null = null;
  lastRunAt: string | null = null;
  /** Told of every sweep's result (undefined: the sweep failed), for metrics. */
  onResult?: (r: ReconcileResult | undefined) => void;
  lastError: string | null = null;
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
    private readonly publisher: JobPublisher,
    private readonly progress: ProgressPublisher,
    private readonly logger: Logger,
    private readonly timings: StateTimings,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.timings.reconcileIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
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
    if (!this.running) {
      this.running = this.runOnce()
        .then(
          (r) => {
            this.lastRunAt = new Date().toISOString();
            this.lastError = null;
            if (r.requeued || r.cancelled || r.republished) this.logger.info({ ...r }, 'reconciler acted');
            this.onResult?.(r);
            return r;
          },
          (err) => {
            if (isDatabaseUnavailable(err)) this.markBlind();
            this.lastError = (err as Error).message;
            this.logger.warn({ err: (err as Error).message }, 'reconciler sweep failed; next one in the next interval');
            this.onResult?.(undefined);
            return undefined;
          },
        )
        .finally(() => (this.running = null));
    }
    return this.running;
  }

  async runOnce(): Promise<ReconcileResult> {
    const em = this.orm.em.fork() as Em;
    const result: ReconcileResult = { requeued: 0, cancelled: 0, republished: 0 };
    for (;;) {
      if (!this.canJudgeRunning()) break;
      const r = await transaction(em, (tem) => this.takeStaleRunning(tem));
      result.requeued += r.requeued.length;
      result.cancelled += r.cancelled.length;
      await this.progress.publishJobs(em, r.cancelled);
      await this.publishAndQueue(em, r.requeued);
      if (r.seen < BATCH) break;
    }
    for (;;) {
      const jobs = await transaction(em, (tem) => this.takeStalePending(tem));
      await this.publishAndQueue(em, jobs);
      result.republished += jobs.length;
      if (jobs.length < BATCH) break;
    }
    return result;
  }

  private async takeStaleRunning(em: Em): Promise<{ requeued: Candidate[]; cancelled: number[]; seen: number }> {
    const staleUs = this.timings.staleHeartbeatMs * 1000;
    const rows = await all<Candidate>(
      em,
      `SELECT id, grid_id, generation, attempt, runner_id, cancel_requested FROM pdr_model_jobs
       WHERE status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < NOW(3) - INTERVAL ? MICROSECOND)
       ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      [staleUs],
    );
    const stale = `status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < NOW(3) - INTERVAL ? MICROSECOND)`;
    const toCancel = rows.filter((r) => r.cancel_requested);
    const toRequeue = rows.filter((r) => !r.cancel_requested);
    let cancelled: number[] = [];
    let requeued: Candidate[] = [];
    if (toCancel.length) {
      const ids = toCancel.map((r) => r.id);
      const res = await run(
        em,
        `UPDATE pdr_model_jobs SET ${setStatusSql('cancelled')}, version = version + 1, heartbeat_at = NULL,
           reason = 'cancelled by the user; its runner stopped answering', ${CLOSE_TIMES_SQL}
         WHERE id IN (${inList(ids.length)}) AND ${stale}`,
        [...ids, staleUs],
      );
      // the rows are locked by the SELECT above, so the conditions still hold: all of them changed
      if (res.affectedRows !== ids.length) throw new Error(`reconciler: ${res.affectedRows} of ${ids.length} stale cancelled jobs changed`);
      cancelled = ids;
    }
    if (toRequeue.length) {
      const ids = toRequeue.map((r) => r.id);
      const res = await run(
        em,
        `UPDATE pdr_model_jobs SET ${setStatusSql('pending')}, generation = generation + 1, version = version + 1, heartbeat_at = NULL,
           queued_at = NULL, reason = CONCAT('requeued: the heartbeat of attempt ', attempt, ' (', COALESCE(runner_id, 'unknown runner'), ') stopped')
         WHERE id IN (${inList(ids.length)}) AND ${stale}`,
        [...ids, staleUs],
      );
      if (res.affectedRows !== ids.length) throw new Error(`reconciler: ${res.affectedRows} of ${ids.length} stale running jobs changed`);
      for (const r of toRequeue) r.generation += 1;
      requeued = toRequeue;
    }
    if (rows.length) {
      const ids = rows.map((r) => r.id);
      await run(
        em,
        `UPDATE job_attempts a JOIN pdr_model_jobs j ON j.id = a.job_id AND j.attempt = a.attempt
         SET a.status = 'failed', a.finished_at = NOW(3), a.reason = 'heartbeat lost (reconciler)'
         WHERE a.job_id IN (${inList(ids.length)}) AND a.finished_at IS NULL`,
        ids,
      );
    }
    return { requeued, cancelled, seen: rows.length };
  }

  private async takeStalePending(em: Em): Promise<Candidate[]> {
    const rows = await all<Candidate>(
      em,
      `SELECT id, grid_id, generation, attempt, runner_id, cancel_requested FROM pdr_model_jobs
       WHERE status = 'pending' AND grid_id IS NOT NULL AND COALESCE(time_updated, time_created) < NOW(3) - INTERVAL ? MICROSECOND
       ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      [this.timings.stalePendingMs * 1000],
    );
    // touched, so no other sweep takes them again before stalePendingMs has passed once more
    if (rows.length) await run(em, `UPDATE pdr_model_jobs SET time_updated = NOW(3) WHERE id IN (${inList(rows.length)}) AND status = 'pending'`, rows.map((r) => r.id));
    return rows;
  }

  /** Publishes the job events (Nats-Msg-Id = job + generation), then pending → queued for them. */
  private async publishAndQueue(em: Em, jobs: Candidate[]): Promise<void> {
    const withGrid = jobs.filter((j): j is Candidate & { grid_id: number } => j.grid_id !== null);
    if (!withGrid.length) return;
    const events: JobEvent[] = withGrid.map((j) => ({ v: 1, jobId: j.id, gridId: j.grid_id, generation: j.generation }));
    await this.publisher.publish(events);
    const queued: number[] = [];
    for (const ids of chunk(withGrid.map((j) => j.id), 1000)) queued.push(...(await transaction(em, (tem) => pendingToQueued(tem, ids))));
    await this.progress.publishJobs(em, queued);
  }
}
