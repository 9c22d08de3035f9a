import { Consumer, JsMsg, NatsConnection } from 'nats';
import { Names } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { JobHandler } from './handle-job';
import { RUNNER_LIMITS } from './limits';

/**
 * Pulls job events from the shared durable consumer, one slot loop per concurrent job: a slot asks for
 * the next event only when it is free, so a busy runner never holds events another runner could run.
 */
export class JobConsumer {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private consumer!: Consumer;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
    private readonly handler: JobHandler,
    private readonly slots: number,
    private readonly logger: Logger,
    /** Creates the job stream and consumer when they are missing (idempotent). */
    private readonly ensureStream: () => Promise<{ streamCreated: boolean; consumerCreated: boolean }>,
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.nc.jetstream().consumers.get(this.n.jobStream, this.n.jobConsumer);
    for (let i = 0; i < this.slots; i++) this.loops.push(this.slotLoop(i));
  }

  /**
   * The consumer (or the whole stream) was deleted, or nats-server came back without its store: create
   * them again (a planner's dispatch sweep refills the stream) and pull from the new consumer. One
   * refresh at a time for all slots.
   */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const r = await this.ensureStream();
        if (r.streamCreated || r.consumerCreated) this.logger.warn({ stream: r.streamCreated, consumer: r.consumerCreated }, 'the job stream or its consumer was missing: created again');
        this.consumer = await this.nc.jetstream().consumers.get(this.n.jobStream, this.n.jobConsumer);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  get busy(): number {
    return this.handler.running.size;
  }

  private async slotLoop(slot: number): Promise<void> {
    while (!this.stopping) {
      let m: JsMsg | null = null;
      try {
        m = await this.consumer.next({ expires: RUNNER_LIMITS.PULL_EXPIRES_MS });
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn({ slot, err: (err as Error).message }, 'pull failed, retrying');
        await new Promise((r) => setTimeout(r, 1000));
        if (!this.stopping) await this.refresh().catch((e) => this.logger.warn({ slot, err: (e as Error).message }, 'job stream not available yet'));
        continue;
      }
      if (!m) continue;
      if (this.stopping) {
        m.nak();
        break;
      }
      try {
        await this.handler.handle(m);
      } catch (err) {
        // never lose an event to a bug: give it back
        this.logger.error({ slot, err: (err as Error).message }, 'job handling failed unexpectedly');
        m.nak(RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS);
      }
    }
  }

  /** Stops pulling, lets running jobs finish within the grace period, then releases the rest. */
  async stop(graceMs: number = RUNNER_LIMITS.SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping = true;
    this.handler.stopping = true;
    const running = [...this.handler.running.values()];
    if (running.length) {
      this.logger.info({ running: running.length, graceMs }, 'waiting for running jobs');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      const all = Promise.all(running.map((j) => j.done)).then(() => 'done' as const);
      if ((await Promise.race([all, timer])) === 'timeout') {
        for (const j of this.handler.running.values()) j.abort('shutdown');
      }
    }
    await Promise.all(this.loops);
  }
}
