import { JobStepInfo, MAX_STEPS_PER_REPORT } from '@pdr/contracts';

/** Steps that begin a long phase (an executable was spawned): what a user watching the grid wants to see now. */
const SEND_AT_ONCE: ReadonlySet<string> = new Set(['pdr-started', 'onion-started']);

/**
 * An attempt's step history on its way to state, without holding up the job: steps collect here and go out,
 * in order, as one state.job.step request when a long phase begins (an executable started) and when the
 * runner flushes before reporting the outcome. At most one request is in flight, so state records them in
 * the order they happened. A job with one species sends 3 requests instead of 6, none of them awaited
 * between the executables (each awaited report cost the job ~6 ms on an idle machine, more under load).
 *
 * `send` never rejects: a step that cannot be recorded is history lost, not a failed job (the caller logs).
 */
export class StepReporter {
  private waiting: JobStepInfo[] = [];
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly send: (steps: JobStepInfo[]) => Promise<void>) {}

  add(step: JobStepInfo): void {
    this.waiting.push(step);
    if (SEND_AT_ONCE.has(step.step)) this.dispatch();
  }

  /** Sends what is waiting and resolves once every step added so far has been answered (or given up). */
  async flush(): Promise<void> {
    this.dispatch();
    await this.inFlight;
  }

  private dispatch(): void {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_STEPS_PER_REPORT);
      this.inFlight = this.inFlight.then(() => this.send(batch));
    }
  }
}
