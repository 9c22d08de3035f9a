import { Consumer, ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { Names } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { JobHandler } from './handle-job';
import { RUNNER_LIMITS } from './limits';

/**
 * Pulls job events from the shared durable consumer for as many jobs as the runner has free slots: one
 * pull request at a time per runner, for `free` events, so a busy runner never holds events another
 * runner could run. (It used to be one waiting pull per slot: JetStream keeps at most max_waiting = 512
 * waiting pull requests per consumer and silently lets the others expire, so on a cluster with more
 * than 512 idle slots the rest only ever got work by chance — test/bench/load.js, docs/benchmarks.md.)
 * A slot is free again once its job's outcome is known and its files are stored (the report to state
 * continues in the background, see JobHandler).
 */
export class JobConsumer {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private free: number;
  private wake: (() => void) | null = null;
  private pulling: ConsumerMessages | null = null;
  private readonly inHand = new Set<Promise<void>>();
  private consumer!: Consumer;

  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
    private readonly handler: JobHandler,
    private readonly slots: number,
    private readonly logger: Logger,
    /** Creates the job stream and consumer when they are missing (idempotent). */
    private readonly ensureStream: () => Promise<{ streamCreated: boolean; consumerCreated: boolean }>,
  ) {
    this.free = slots;
  }

  async start(): Promise<void> {
    this.consumer = await this.nc.jetstream().consumers.get(this.n.jobStream, this.n.jobConsumer);
    this.loop = this.pullLoop();
  }

  /**
   * The consumer (or the whole stream) was deleted, or nats-server came back without its store: create
   * them again (a planner's dispatch sweep refills the stream) and pull from the new consumer.
   */
  private async refresh(): Promise<void> {
    const r = await this.ensureStream();
    if (r.streamCreated || r.consumerCreated) this.logger.warn({ stream: r.streamCreated, consumer: r.consumerCreated }, 'the job stream or its consumer was missing: created again');
    this.consumer = await this.nc.jetstream().consumers.get(this.n.jobStream, this.n.jobConsumer);
  }

  get busy(): number {
    return this.handler.running.size;
  }

  private async pullLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.free === 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        const batch = await this.consumer.fetch({ max_messages: this.free, expires: RUNNER_LIMITS.PULL_EXPIRES_MS });
        this.pulling = batch;
        for await (const m of batch) {
          if (this.stopping) {
            m.nak();
            continue;
          }
          this.start1(m);
        }
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn({ err: (err as Error).message }, 'pull failed, retrying');
        await new Promise((r) => setTimeout(r, 1000));
        if (!this.stopping) await this.refresh().catch((e) => this.logger.warn({ err: (e as Error).message }, 'job stream not available yet'));
      } finally {
        this.pulling = null;
      }
    }
  }

  /** Hands one event to the handler in a slot of its own; the slot is free again when `handle` resolves. */
  private start1(m: JsMsg): void {
    this.free--;
    const p: Promise<void> = this.handler
      .handle(m)
      .catch((err) => {
        // never lose an event to a bug: give it back
        this.logger.error({ err: (err as Error).message }, 'job handling failed unexpectedly');
        m.nak(RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS);
      })
      .finally(() => {
        this.inHand.delete(p);
        this.free++;
        const w = this.wake;
        this.wake = null;
        w?.();
      });
    this.inHand.add(p);
  }

  /** Stops pulling, lets running jobs finish within the grace period, then releases the rest. */
  async stop(graceMs: number = RUNNER_LIMITS.SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping = true;
    this.handler.stopping = true;
    this.pulling?.stop();
    const w = this.wake;
    this.wake = null;
    w?.();
    const running = [...this.handler.running.values()];
    if (running.length) {
      this.logger.info({ running: running.length, graceMs }, 'waiting for running jobs');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      const all = Promise.all(running.map((j) => j.done)).then(() => 'done' as const);
      if ((await Promise.race([all, timer])) === 'timeout') {
        for (const j of this.handler.running.values()) j.abort('shutdown');
      }
    }
    await Promise.all([...this.inHand]);
    await Promise.all([...this.handler.running.values()].map((j) => j.done));
    await this.loop;
  }
}
