import { limitFromEnv, MAX_POINTS_PER_BATCH, Names } from '@pdr/contracts';
import { ContractClient, ensureJobStream, JobStream, JobStreamSettings, PeriodicTask } from '@pdr/messaging';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { JobDispatcher } from './job-dispatcher';

export interface SweepTimings {
  /** How often the sweep runs (it also runs at start). */
  sweepIntervalMs: number;
  /** A pending job untouched for this long has no publisher any more. */
  stalePendingMs: number;
}

export function sweepTimingsFromEnv(env: NodeJS.ProcessEnv = process.env): SweepTimings {
  return { sweepIntervalMs: limitFromEnv('DISPATCH_SWEEP_INTERVAL_MS', env), stalePendingMs: limitFromEnv('STALE_PENDING_MS', env) };
}

export interface SweepResult {
  /** The stream or the consumer was missing and has been created again. */
  recreated: boolean;
  /** Pending jobs left by a planner that died, now published. */
  stalePending: number;
  /** Queued jobs with no event in the stream (lost), published again with a new generation. */
  lost: number;
}

/** Queued jobs read per request when the stream is compared with the database job by job. */
const PAGE = 5_000;

/**
 * The dispatch sweep (DESIGN: "what the database says is queued must be in the stream"), in every
 * planner at start and every DISPATCH_SWEEP_INTERVAL_MS:
 *  1. the job stream and the runners' consumer exist (created again when deleted or when nats-server
 *     came back without its store; runners resume pulling from the new consumer);
 *  2. pending jobs untouched for STALE_PENDING_MS (their planner died between persisting and publishing)
 *     are published;
 *  3. queued jobs whose event the stream no longer holds are published again with a new generation. The
 *     cheap test first: every queued or running job holds one message until its runner acks the outcome,
 *     so fewer messages than queued + running jobs means events are missing; only then is the stream's
 *     per-job subject list compared with the queued jobs. A job queued after the database's clock of the
 *     count is left alone (its event may be on its way), as is a job in the stream or running: nothing is
 *     run twice, and an old copy of an event that does turn up loses the claim (stale generation).
 * Extra messages (stale copies not yet pulled) can hide a deficit until runners have drained them; the
 * deficit then shows, so recovery is bounded by the interval plus that drain.
 */
export class DispatchSweep {
  private readonly periodic: PeriodicTask<SweepResult>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
    private readonly state: ContractClient,
    private readonly stream: JobStream,
    private readonly dispatcher: JobDispatcher,
    private readonly log: Logger,
    private readonly timings: SweepTimings,
    private readonly streamSettings: JobStreamSettings = {},
  ) {
    this.periodic = new PeriodicTask({
      name: 'dispatch sweep',
      intervalMs: timings.sweepIntervalMs,
      run: () => this.runOnce(),
      onSuccess: (r) => {
        if (r.recreated || r.stalePending || r.lost) this.log.info({ ...r }, 'dispatch sweep acted');
      },
      logger: log,
    });
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

  /** One sweep unless one is in progress (then waits for that one). */
  tick(): Promise<SweepResult | undefined> {
    return this.periodic.tick();
  }

  async runOnce(): Promise<SweepResult> {
    const { streamCreated, consumerCreated } = await ensureJobStream(this.nc, this.n, this.streamSettings);
    const result: SweepResult = { recreated: streamCreated || consumerCreated, stalePending: 0, lost: 0 };
    if (result.recreated) this.log.warn({ stream: streamCreated, consumer: consumerCreated }, 'the job stream or its consumer was missing: created again');

    for (;;) {
      const batch = await this.state.request('jobsTakeStalePending', { v: 1, olderThanMs: this.timings.stalePendingMs, limit: 1000 });
      if (batch.jobs.length) result.stalePending += await this.dispatcher.dispatch(batch.installationId, batch.jobs);
      if (batch.jobs.length < 1000) break;
    }

    const counts = await this.state.request('jobsOutstanding', { v: 1, limit: 0 });
    if (!counts.queued) return result;
    const messages = await this.stream.messageCount();
    if (messages >= counts.queued + counts.running) return result;

    const present = await this.stream.jobsWithEvents();
    const before = new Date(counts.now).getTime();
    for (let afterId = 0; ; ) {
      const page = await this.state.request('jobsOutstanding', { v: 1, afterId, limit: PAGE });
      const lost = page.jobs.filter(([jobId, , , queuedAt]) => !present.has(jobId) && new Date(queuedAt).getTime() < before).map(([jobId]) => jobId);
      for (let i = 0; i < lost.length; i += MAX_POINTS_PER_BATCH) {
        const again = await this.state.request('jobsRedispatch', {
          v: 1,
          jobIds: lost.slice(i, i + MAX_POINTS_PER_BATCH),
          queuedBefore: counts.now,
          reason: 'the job stream lost its event',
        });
        result.lost += await this.dispatcher.dispatch(again.installationId, again.jobs);
      }
      if (page.jobs.length < PAGE) break;
      afterId = page.jobs[page.jobs.length - 1][0];
    }
    return result;
  }
}
