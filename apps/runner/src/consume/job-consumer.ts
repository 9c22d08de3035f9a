import { Consumer, ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { jobEvent, Names } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { decodeJson } from '@pdr/messaging/client';
import { JobHandler } from './handle-job';
import { RUNNER_LIMITS } from './limits';
import { slotGate, type SlotLease } from './slot-gate';
import { WalltimeGuard } from './walltime';

/** Why a runner stopped by itself: idle too long, or no job fits / drained (Slurm allocation ending). */
export type SelfStop = 'idle' | 'no-time' | 'drained';

export interface ConsumerOptions {
  /** Stops claiming when a job would not fit in the allocation, or when draining. */
  guard?: WalltimeGuard;
  /** Stop after this long with nothing to pull and nothing running (pilot jobs). */
  idleExitMs?: number;
}

/**
 * Pulls job events from the shared durable consumer for as many jobs as the runner has free slots: one
 * pull request at a time per runner, for `free` events, so a busy runner never holds events another
 * runner could run. (It used to be one waiting pull per slot: JetStream keeps at most max_waiting = 512
 * waiting pull requests per consumer and silently lets the others expire, so on a cluster with more
 * than 512 idle slots the rest only ever got work by chance — test/bench/load.js, docs/benchmarks.md.)
 * A slot is free again once its job's outcome is known and its files are stored (the report to state
 * continues in the background, see JobHandler).
 *
 * Claim-ahead: once a job's executables are done and it stores its outputs, its slot pulls and claims the
 * next event; that job waits for the slot (`SlotLease`) and starts the moment the store ends, so the pull
 * and claim round trips (~40 ms a job on the loaded 2-core bench machine) overlap the store instead of
 * following it. A job is held ahead only by a slot that is sure to be free within a store's time: at most
 * one per slot, never before its previous job's executables have ended. While it waits it is an ordinary
 * claimed job (heartbeats, in-progress acks); a kill or a lost claim ends the wait at once, and a shutdown
 * releases it to another runner without running it.
 *
 * A runner whose allocation ends (Slurm pilot, `guard`) pulls only while a job can still finish in the
 * time left, and gives back an event whose grid's jobs would not fit; a pilot with `idleExitMs` leaves
 * after that long with nothing to pull. A missing stream or consumer is created again.
 */
export class JobConsumer {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private free: number;
  private wake: (() => void) | null = null;
  private pulling: ConsumerMessages | null = null;
  private readonly inHand = new Set<Promise<void>>();
  /** At most `slots` jobs run at once, in the order they were claimed (a job claimed ahead waits here). */
  private readonly acquireSlot: () => Promise<() => void>;
  private consumer!: Consumer;
  private lastBusyAt = Date.now();
  private selfStop: SelfStop | null = null;
  private resolveDone!: (why: SelfStop) => void;
  /** Resolves when the runner stopped pulling by itself and its running jobs have ended. */
  readonly done = new Promise<SelfStop>((r) => (this.resolveDone = r));

  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
    private readonly handler: JobHandler,
    private readonly slots: number,
    private readonly logger: Logger,
    /** Creates the job stream and consumer when they are missing (idempotent). */
    private readonly ensureStream: () => Promise<{ streamCreated: boolean; consumerCreated: boolean }>,
    private readonly o: ConsumerOptions = {},
  ) {
    this.free = slots;
    this.acquireSlot = slotGate(slots);
  }

  async start(): Promise<void> {
    this.consumer = await this.nc.jetstream().consumers.get(this.n.jobStream, this.n.jobConsumer);
    this.loop = this.pullLoop();
    void this.loop.then(async () => {
      if (!this.selfStop) return; // stopped from outside (close)
      await Promise.all([...this.inHand]);
      await Promise.all([...this.handler.running.values()].map((j) => j.done));
      this.resolveDone(this.selfStop);
    });
  }

  get busy(): number {
    return this.handler.busy;
  }

  /** False once it stopped pulling by itself or was told to stop (its pilot needs a replacement). */
  get claiming(): boolean {
    return !this.stopping && !this.selfStop && !this.o.guard?.draining;
  }

  get idleMs(): number {
    return this.handler.running.size > 0 || this.inHand.size > 0 ? 0 : Date.now() - this.lastBusyAt;
  }

  /** Stop pulling by itself: `why` is reported once the running jobs have ended. */
  private stopSelf(why: SelfStop): void {
    if (!this.selfStop) this.selfStop = why;
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

  /** Whether the guard lets this runner pull now (no guard: always); sets selfStop when it never will again. */
  private async mayPull(): Promise<boolean> {
    const guard = this.o.guard;
    if (!guard) return true;
    let may: boolean;
    try {
      may = await guard.mayPull();
    } catch (err) {
      // without an estimate a runner whose allocation ends claims nothing; it asks again
      this.logger.warn({ err: (err as Error).message }, 'job durations unknown (state unreachable?); not pulling yet');
      await new Promise((r) => setTimeout(r, RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS));
      // a pilot that can claim nothing for its idle time leaves, as one with nothing to pull does
      if (this.o.idleExitMs !== undefined && this.idleMs >= this.o.idleExitMs) this.stopSelf('idle');
      return false;
    }
    if (!may) this.stopSelf(guard.draining ? 'drained' : 'no-time');
    return may;
  }

  private async pullLoop(): Promise<void> {
    while (!this.stopping && !this.selfStop) {
      if (this.free === 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (!(await this.mayPull())) continue;
      let got = 0;
      try {
        const batch = await this.consumer.fetch({ max_messages: this.free, expires: RUNNER_LIMITS.PULL_EXPIRES_MS });
        this.pulling = batch;
        for await (const m of batch) {
          got++;
          this.lastBusyAt = Date.now();
          if (this.stopping || this.selfStop) {
            m.nak();
            continue;
          }
          const guard = this.o.guard;
          if (guard && !(await this.fits(guard, m))) {
            m.nak();
            this.stopSelf(guard.draining ? 'drained' : 'no-time');
            continue;
          }
          this.start1(m);
        }
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn({ err: (err as Error).message }, 'pull failed, retrying');
        await new Promise((r) => setTimeout(r, RUNNER_LIMITS.PULL_RETRY_MS));
        if (!this.stopping) await this.refresh().catch((e) => this.logger.warn({ err: (e as Error).message }, 'job stream not available yet'));
      } finally {
        this.pulling = null;
      }
      if (got === 0 && this.o.idleExitMs !== undefined && this.idleMs >= this.o.idleExitMs) {
        this.logger.info({ idleMs: this.idleMs }, 'nothing to pull for the idle time: stopping');
        this.stopSelf('idle');
      }
    }
  }

  /** The event in hand fits in the allocation (a malformed one is left to the handler). */
  private async fits(guard: WalltimeGuard, m: JsMsg): Promise<boolean> {
    let gridId: number;
    try {
      gridId = jobEvent.parse(decodeJson(m.data)).gridId;
    } catch {
      return true;
    }
    try {
      return await guard.mayClaim(gridId);
    } catch (err) {
      this.logger.warn({ gridId, err: (err as Error).message }, 'job duration unknown: event given back');
      return false;
    }
  }

  /** Hands one event to the handler in a slot of its own; the slot is free again when `handle` resolves. */
  private start1(m: JsMsg): void {
    this.free--;
    let freed = false;
    // the pull permission comes back once: early when the job stores (claim-ahead), else when it ends
    const freeSlot = () => {
      if (freed) return;
      freed = true;
      this.free++;
      const w = this.wake;
      this.wake = null;
      w?.();
    };
    const lease: SlotLease = {
      acquire: this.acquireSlot,
      storing: () => {
        if (!this.stopping && !this.selfStop) freeSlot();
      },
    };
    const p: Promise<void> = this.handler
      .handle(m, lease)
      .catch((err) => {
        // never lose an event to a bug: give it back
        this.logger.error({ err: (err as Error).message }, 'job handling failed unexpectedly');
        m.nak(RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS);
      })
      .finally(() => {
        this.lastBusyAt = Date.now();
        this.inHand.delete(p);
        freeSlot();
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
    // jobs claimed ahead have not begun: released to another runner at once, not run
    for (const j of this.handler.running.values()) if (!j.started) j.abort('shutdown');
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
