import { Counter, DURATION_BUCKETS, Gauge, Histogram, LATENCY_BUCKETS, newRegistry, Registry } from '@pdr/messaging';
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
  readonly jobs = new Counter({ name: 'pdr_runner_jobs_total', help: 'job outcomes recorded by state, by status', labelNames: ['status'] as const, registers: [this.registry] });
  readonly jobSeconds = new Histogram({
    name: 'pdr_runner_job_duration_seconds',
    help: 'run time of a job attempt (setup to outcome), by status',
    labelNames: ['status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly stepSeconds = new Histogram({
    name: 'pdr_runner_step_duration_seconds',
    help: 'run time of one executable run: pdr, or onion (per species)',
    labelNames: ['step'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly exitCodes = new Counter({
    name: 'pdr_runner_exit_codes_total',
    help: 'exit codes of executable runs ("none": killed by a signal or timed out)',
    labelNames: ['program', 'code'] as const,
    registers: [this.registry],
  });
  readonly storageBytes = new Counter({ name: 'pdr_runner_storage_bytes_total', help: 'bytes stored, per storage backend', labelNames: ['backend'] as const, registers: [this.registry] });
  readonly storageSeconds = new Histogram({
    name: 'pdr_runner_storage_duration_seconds',
    help: 'time of one storage call (a single file, or the batch of one job with storeMany: copy, verify, rename), per storage backend',
    labelNames: ['backend'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly storageFiles = new Counter({ name: 'pdr_runner_storage_files_total', help: 'files stored, per storage backend', labelNames: ['backend'] as const, registers: [this.registry] });
  readonly storageErrors = new Counter({ name: 'pdr_runner_storage_errors_total', help: 'storage calls that failed, per storage backend', labelNames: ['backend'] as const, registers: [this.registry] });

  constructor(slots: () => { busy: number; total: number }) {
    for (const s of ['finished', 'problem', 'failed', 'skipped', 'cancelled']) this.jobs.inc({ status: s }, 0);
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
