import { execFile } from 'child_process';
import { GridEstimate } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import { RUNNER_LIMITS } from './limits';

/**
 * When this runner's allocation ends (ms since the epoch), or null when it has no end: SLURM_JOB_END_TIME
 * (seconds, set by newer Slurm), else `squeue -h -j $SLURM_JOB_ID -o %e` (local time), else none.
 */
export async function allocationEnd(env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const fromEnv = Number(env.SLURM_JOB_END_TIME);
  if (env.SLURM_JOB_END_TIME && Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv * 1000;
  const jobId = env.SLURM_JOB_ID;
  if (!jobId || !/^\d+$/.test(jobId)) return null;
  const out = await new Promise<string>((resolve) =>
    execFile('squeue', ['-h', '-j', jobId, '-o', '%e'], { timeout: 15_000 }, (err, stdout) => resolve(err ? '' : stdout.trim())),
  );
  return parseSlurmTime(out);
}

/** squeue's `2026-11-30T17:46:49` (local time); N/A, NONE, Unknown, UNLIMITED → null. */
export function parseSlurmTime(s: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(s)) return null;
  const t = new Date(s).getTime();
  return Number.isFinite(t) ? t : null;
}

export interface WalltimeDeps {
  /** End of the allocation (ms since the epoch), null: none. */
  endsAt: number | null;
  /** Expected job durations of the given grids, or of every grid with work waiting. */
  estimate(gridIds?: number[]): Promise<GridEstimate[]>;
  logger: Logger;
  now?: () => number;
}

/**
 * Decides whether this runner may pull and claim another job: never once it was told to drain (Slurm's
 * warning signal), and never a job whose expected duration does not fit in the time left before the
 * allocation ends (less WALLTIME_MARGIN_MS for storing and reporting). The pull is checked against the
 * longest job of any grid with work waiting, so no delivery is spent on an event it would give back.
 */
export class WalltimeGuard {
  draining = false;
  private cache = new Map<number, { e: GridEstimate; at: number }>();
  private activeAt = 0;
  private activeIds: number[] = [];
  private said = false;

  constructor(private readonly d: WalltimeDeps) {}

  get endsAt(): number | null {
    return this.d.endsAt;
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** Milliseconds left for jobs (null: no end). */
  timeLeftMs(): number | null {
    return this.d.endsAt === null ? null : this.d.endsAt - this.now() - RUNNER_LIMITS.WALLTIME_MARGIN_MS;
  }

  private async refreshActive(): Promise<GridEstimate[]> {
    if (this.now() - this.activeAt > RUNNER_LIMITS.ESTIMATE_CACHE_MS) {
      const list = await this.d.estimate();
      for (const e of list) this.cache.set(e.gridId, { e, at: this.now() });
      this.activeIds = list.map((e) => e.gridId);
      this.activeAt = this.now();
    }
    return this.activeIds.map((id) => this.cache.get(id)!.e);
  }

  private async expected(gridId: number): Promise<GridEstimate> {
    const hit = this.cache.get(gridId);
    if (hit && this.now() - hit.at <= RUNNER_LIMITS.ESTIMATE_CACHE_MS) return hit.e;
    const [e] = await this.d.estimate([gridId]);
    if (!e) throw new Error(`no estimate for grid ${gridId}`);
    this.cache.set(gridId, { e, at: this.now() });
    return e;
  }

  private stop(why: string, detail: Record<string, unknown>): false {
    if (!this.said) this.d.logger.info(detail, why);
    this.said = true;
    return false;
  }

  /** May a free slot ask for the next job event? */
  async mayPull(): Promise<boolean> {
    if (this.draining) return this.stop('draining: no new jobs are claimed', {});
    const left = this.timeLeftMs();
    if (left === null) return true;
    if (left <= 0) return this.stop('the allocation ends: no new jobs are claimed', { endsAt: new Date(this.d.endsAt!).toISOString() });
    const active = await this.refreshActive();
    const longest = active.reduce<GridEstimate | null>((a, e) => (a === null || e.expectedMs > a.expectedMs ? e : a), null);
    if (longest && longest.expectedMs > left) {
      return this.stop('the time left in the allocation is shorter than the jobs waiting: no new jobs are claimed', {
        timeLeftMs: left,
        gridId: longest.gridId,
        expectedMs: longest.expectedMs,
        basis: longest.basis,
      });
    }
    return true;
  }

  /** May this runner claim a job of `gridId` now (the event is in hand)? */
  async mayClaim(gridId: number): Promise<boolean> {
    if (this.draining) return false;
    const left = this.timeLeftMs();
    if (left === null) return true;
    const e = await this.expected(gridId);
    if (e.expectedMs > left) {
      return this.stop('a job does not fit in the time left in the allocation: given back, no new jobs are claimed', {
        timeLeftMs: left,
        gridId,
        expectedMs: e.expectedMs,
        basis: e.basis,
      });
    }
    return true;
  }
}
