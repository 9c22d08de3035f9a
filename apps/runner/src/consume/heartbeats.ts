import { MAX_HEARTBEATS_PER_REQUEST, RpcReply } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';

type Beat = RpcReply<'jobsHeartbeat'>['jobs'][number];
type Send = (attempts: Array<{ jobId: number; attempt: number }>) => Promise<RpcReply<'jobsHeartbeat'>>;

/**
 * The heartbeats of all running attempts of one runner, sent to state as one state.jobs.heartbeat request
 * per interval (MAX_HEARTBEATS_PER_REQUEST attempts per request), never more than one round in flight.
 * One request per attempt made the heartbeat load on state grow with the slots of a cluster, not its
 * runners: at 10 s per heartbeat, 5 000 slots were 500 requests a second (docs/benchmarks.md).
 * Each attempt's callback gets its entry of the reply (alive, cancel); a round that fails is logged and
 * the next one tries again (state's stale-heartbeat window is several intervals long).
 */
export class RunnerHeartbeats {
  private readonly attempts = new Map<string, { jobId: number; attempt: number; onReply: (b: Beat) => void }>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;

  constructor(
    private readonly send: Send,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Beats for this attempt from now on; the returned function stops them. */
  add(jobId: number, attempt: number, onReply: (b: Beat) => void): () => void {
    const key = `${jobId}:${attempt}`;
    this.attempts.set(key, { jobId, attempt, onReply });
    if (!this.timer) {
      this.timer = setInterval(() => void this.round(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.attempts.delete(key);
      if (this.attempts.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  get size(): number {
    return this.attempts.size;
  }

  /** One round: every attempt registered now, in as few requests as the limit allows. */
  async round(): Promise<void> {
    if (this.inFlight || this.attempts.size === 0) return;
    this.inFlight = true;
    try {
      const list = [...this.attempts.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
      for (let i = 0; i < list.length; i += MAX_HEARTBEATS_PER_REQUEST) {
        try {
          const reply = await this.send(list.slice(i, i + MAX_HEARTBEATS_PER_REQUEST));
          for (const b of reply.jobs) this.attempts.get(`${b.jobId}:${b.attempt}`)?.onReply(b);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, attempts: list.length }, 'heartbeats not recorded');
        }
      }
    } finally {
      this.inFlight = false;
    }
  }
}
