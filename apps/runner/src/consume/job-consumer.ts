import { Consumer, JsMsg, NatsConnection } from 'nats';
import { jobEvent, Names } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { decodeJson } from '@pdr/messaging';
import { JobHandler } from './handle-job';
import { RUNNER_LIMITS } from './limits';
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
 * Pulls job events from the shared durable consumer, one slot loop per concurrent job: a slot asks for
 * the next event only when it is free, so a busy runner never holds events another runner could run.
 */
export class JobConsumer {
  private stopping = false;
  private loops: Promise<void>[] = [];
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
    private readonly o: ConsumerOptions = {},
  ) {}

  async start(): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(this.n.jobStream, this.n.jobConsumer);
    for (let i = 0; i < this.slots; i++) this.loops.push(this.slotLoop(consumer, i));
    void Promise.all(this.loops).then(async () => {
      if (!this.selfStop) return; // stopped from outside (close)
      await Promise.all([...this.handler.running.values()].map((j) => j.done));
      this.resolveDone(this.selfStop);
    });
  }

  get busy(): number {
    return this.handler.running.size;
  }

  /** False once it stopped pulling by itself or was told to stop (its pilot needs a replacement). */
  get claiming(): boolean {
    return !this.stopping && !this.selfStop && !this.o.guard?.draining;
  }

  get idleMs(): number {
    return this.handler.running.size > 0 ? 0 : Date.now() - this.lastBusyAt;
  }

  /** Stop pulling by itself (all slots): `why` is reported once the running jobs have ended. */
  private stopSelf(why: SelfStop): void {
    if (!this.selfStop) this.selfStop = why;
  }

  private async slotLoop(consumer: Consumer, slot: number): Promise<void> {
    const guard = this.o.guard;
    while (!this.stopping && !this.selfStop) {
      if (guard) {
        let may: boolean;
        try {
          may = await guard.mayPull();
        } catch (err) {
          // without an estimate a runner whose allocation ends claims nothing; it asks again
          this.logger.warn({ slot, err: (err as Error).message }, 'job durations unknown (state unreachable?); not pulling yet');
          await new Promise((r) => setTimeout(r, RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS));
          // a pilot that can claim nothing for its idle time leaves, as one with nothing to pull does
          if (this.o.idleExitMs !== undefined && this.idleMs >= this.o.idleExitMs) this.stopSelf('idle');
          continue;
        }
        if (!may) {
          this.stopSelf(guard.draining ? 'drained' : 'no-time');
          break;
        }
      }
      let m: JsMsg | null = null;
      try {
        m = await consumer.next({ expires: RUNNER_LIMITS.PULL_EXPIRES_MS });
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn({ slot, err: (err as Error).message }, 'pull failed, retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!m) {
        if (this.o.idleExitMs !== undefined && this.idleMs >= this.o.idleExitMs) {
          this.logger.info({ idleMs: this.idleMs }, 'nothing to pull for the idle time: stopping');
          this.stopSelf('idle');
        }
        continue;
      }
      this.lastBusyAt = Date.now();
      if (this.stopping || this.selfStop) {
        m.nak();
        break;
      }
      if (guard && !(await this.fits(guard, m))) {
        m.nak();
        this.stopSelf(guard.draining ? 'drained' : 'no-time');
        break;
      }
      try {
        await this.handler.handle(m);
      } catch (err) {
        // never lose an event to a bug: give it back
        this.logger.error({ slot, err: (err as Error).message }, 'job handling failed unexpectedly');
        m.nak(RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS);
      } finally {
        this.lastBusyAt = Date.now();
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
