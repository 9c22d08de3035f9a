import type { Logger } from '@pdr/logging';

export interface PeriodicTaskOptions<R> {
  /** Names the task in its log line ("<name> failed; next one in the next interval"). */
  name: string;
  intervalMs: number;
  run: () => Promise<R>;
  /** After a run that succeeded. */
  onSuccess?: (r: R) => void;
  /** After a run that failed (already logged as a warning and kept in `lastError`). */
  onFailure?: (err: unknown) => void;
  logger: Logger;
}

/**
 * A sweep that runs at start and then every `intervalMs`, never twice at once (single flight: a tick
 * while one is in progress waits for that one), survives its own failures (logged, kept in `lastError`,
 * tried again next interval) and is awaited by `stop()`. The timer does not keep the process alive.
 * Used by the planner's dispatch sweep and state's reconciler.
 */
export class PeriodicTask<R> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<R | undefined> | null = null;
  /** The message of the last run's error, null after a run that succeeded. */
  lastError: string | null = null;
  /** When the last successful run ended (ISO), null before the first. */
  lastRunAt: string | null = null;

  constructor(private readonly o: PeriodicTaskOptions<R>) {}

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One run unless one is in progress (then waits for that one); undefined when it failed. */
  tick(): Promise<R | undefined> {
    if (!this.running) {
      this.running = this.o
        .run()
        .then(
          (r) => {
            this.lastRunAt = new Date().toISOString();
            this.lastError = null;
            this.o.onSuccess?.(r);
            return r;
          },
          (err: unknown) => {
            this.lastError = (err as Error).message;
            this.o.logger.warn({ err: (err as Error).message }, `${this.o.name} failed; next one in the next interval`);
            this.o.onFailure?.(err);
            return undefined;
          },
        )
        .finally(() => (this.running = null));
    }
    return this.running;
  }
}
