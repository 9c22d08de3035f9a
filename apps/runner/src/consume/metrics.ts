import { DURATION_BUCKETS, Gauge, LATENCY_BUCKETS, metricsOn, newRegistry, Registry } from '@pdr/messaging/client';
import type { StepEvent } from '../execution/types';

/** Exit codes as labels: 0..255 and "none" (killed by a signal, timed out): a bounded set. */
function codeLabel(code: number | null | undefined): string {
  return typeof code === 'number' && code >= 0 && code <= 255 ? String(code) : 'none';
}

/**
 * A runner's metrics: slots busy/free, jobs by outcome and their durations, PDR and onion run times and
 * exit codes, storage bytes, latency and errors per backend. No job or grid id in any label.
 */
export class RunnerMetrics {
  readonly registry: Registry = newRegistry('runner');
  private readonly m = metricsOn(this.registry);
  readonly jobs = this.m.counter('pdr_runner_jobs_total', 'job outcomes recorded by state, by status', ['status'], ['finished', 'problem', 'failed', 'skipped', 'cancelled']);
  readonly jobSeconds = this.m.histogram('pdr_runner_job_duration_seconds', 'run time of a job attempt (setup to outcome), by status', DURATION_BUCKETS, ['status']);
  readonly stepSeconds = this.m.histogram('pdr_runner_step_duration_seconds', 'run time of one executable run: pdr, or onion (per species)', DURATION_BUCKETS, ['step']);
  readonly exitCodes = this.m.counter('pdr_runner_exit_codes_total', 'exit codes of executable runs ("none": killed by a signal or timed out)', ['program', 'code']);
  readonly storageBytes = this.m.counter('pdr_runner_storage_bytes_total', 'bytes stored, per storage backend', ['backend']);
  readonly storageSeconds = this.m.histogram(
    'pdr_runner_storage_duration_seconds',
    'time of one storage call (a single file, or the batch of one job with storeMany: copy, verify, rename), per storage backend',
    LATENCY_BUCKETS,
    ['backend'],
  );
  readonly storageFiles = this.m.counter('pdr_runner_storage_files_total', 'files stored, per storage backend', ['backend']);
  readonly storageErrors = this.m.counter('pdr_runner_storage_errors_total', 'storage calls that failed, per storage backend', ['backend']);

  constructor(slots: () => { busy: number; total: number }) {
    new Gauge({
      name: 'pdr_runner_slots',
      help: 'job slots of this runner: busy (running a job) and free',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const s = slots();
        this.set({ state: 'busy' }, s.busy);
        this.set({ state: 'free' }, Math.max(0, s.total - s.busy));
      },
    });
  }

  jobEnded(status: string, executionMs: number): void {
    this.jobs.inc({ status });
    this.jobSeconds.observe({ status }, executionMs / 1000);
  }

  step(e: StepEvent): void {
    if (e.type === 'pdr-finished' || e.type === 'onion-finished') {
      const program = e.type === 'pdr-finished' ? 'pdr' : 'onion';
      this.stepSeconds.observe({ step: program }, e.durationMs / 1000);
      this.exitCodes.inc({ program, code: e.timedOut ? 'none' : codeLabel(e.exitCode) });
    }
  }

  /** The storage with every `store` / `storeMany` call timed and its files and bytes counted (other calls pass through). */
  measureStorage<S extends object>(storage: S, backend: string): S {
    return new Proxy(storage, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver);
        if ((prop !== 'store' && prop !== 'storeMany') || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          const end = this.storageSeconds.startTimer({ backend });
          try {
            const r = await (v as (...a: unknown[]) => Promise<{ size?: number } | { size?: number }[]>).apply(target, args);
            end();
            for (const f of Array.isArray(r) ? r : [r]) {
              if (typeof f?.size !== 'number') continue;
              this.storageBytes.inc({ backend }, f.size);
              this.storageFiles.inc({ backend });
            }
            return r;
          } catch (err) {
            this.storageErrors.inc({ backend });
            throw err;
          }
        };
      },
    });
  }
}
