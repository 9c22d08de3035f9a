import { JobStepInfo, LIMITS, MAX_STEPS_PER_REPORT } from '@pdr/contracts';

/**
 * An attempt's step history on its way to state, without holding up the job: steps wait here up to
 * `delayMs` (LIMITS.STEP_REPORT_DELAY_MS) and then go out together, in order, as one state.job.step
 * request; at most one request is in flight, so state records them in the order they happened. When
 * the attempt ends, `take()` hands over what still waits to travel with the outcome (state.job.finish).
 * A long model run shows its current step after the delay; a quick job sends no step request at all —
 * each awaited report used to cost ~6 ms of the job plus the CPU of a request on every side.
 *
 * `send` never rejects: a step that cannot be recorded is history lost, not a failed job (the caller logs).
 */
export class StepReporter {
  private waiting: JobStepInfo[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (steps: JobStepInfo[]) => Promise<void>,
    private readonly delayMs: number = LIMITS.STEP_REPORT_DELAY_MS,
  ) {}

  add(step: JobStepInfo): void {
    this.waiting.push(step);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dispatch(this.waiting.length);
    }, this.delayMs);
    this.timer.unref();
  }

  /** Sends everything waiting now and resolves once every step added so far has been answered (or given up). */
  async flush(): Promise<void> {
    this.stopTimer();
    this.dispatch(this.waiting.length);
    await this.inFlight;
  }

  /**
   * The end of the attempt: waits for the requests in flight and returns the steps still waiting (at most
   * MAX_STEPS_PER_REPORT; older ones beyond that are sent first), for the caller to send with the outcome.
   */
  async take(): Promise<JobStepInfo[]> {
    this.stopTimer();
    this.dispatch(Math.max(0, this.waiting.length - MAX_STEPS_PER_REPORT));
    await this.inFlight;
    return this.waiting.splice(0);
  }

  /** Queues requests for the first `count` waiting steps, MAX_STEPS_PER_REPORT per request. */
  private dispatch(count: number): void {
    while (count > 0) {
      const batch = this.waiting.splice(0, Math.min(count, MAX_STEPS_PER_REPORT));
      count -= batch.length;
      // a send that rejected after all must not stop the steps behind it
      this.inFlight = this.inFlight.then(() => this.send(batch)).catch(() => undefined);
    }
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
