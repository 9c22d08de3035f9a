import { GRID_AXES, GridAxis, pointOfJobName } from '@pdr/domain';
import { GridMapReply, JOB_STATUSES, JobStatus, ProgressEvent } from '@pdr/contracts';

/** Status index (JOB_STATUSES order) of every status. */
export const STATUS_INDEX: Readonly<Record<JobStatus, number>> = Object.fromEntries(JOB_STATUSES.map((s, i) => [s, i])) as Record<JobStatus, number>;

/**
 * The points of one grid in typed columns, as the map needs them: axis value indices (4 per point),
 * status, attempts, run time. Loaded from state.grid.map pages, then kept current by progress events.
 * 10^5 points take about 2 MB.
 */
export class GridModel {
  /** Each axis' distinct values, numerically ascending. */
  readonly axes: Record<GridAxis, string[]>;
  readonly n: number;
  readonly ids: Int32Array;
  /** Axis value index of point i on axis a: ax[i * 4 + a] (a in GRID_AXES order). */
  readonly ax: Uint16Array;
  readonly status: Uint8Array;
  readonly attempts: Uint16Array;
  /** Run time in ms, NaN while unknown. */
  readonly ms: Float64Array;
  /** Jobs whose names are not pdr_run's `<metal>_<dens>_<mass>_<chi>_00` (imported legacy rows): not on the map. */
  readonly unplaced: number;
  private readonly byId = new Map<number, number>();
  /** Status of each job that is not on the map (so the counts stay those of the whole grid). */
  private readonly unplacedStatus = new Map<number, number>();

  constructor(pages: readonly GridMapReply[]) {
    const total = pages.reduce((s, p) => s + p.ids.length, 0);
    const points: Array<{ metal: string; dens: string; mass: string; chi: string } | null> = [];
    const seen = GRID_AXES.map(() => new Set<string>());
    for (const p of pages) {
      for (const name of p.names) {
        const pt = pointOfJobName(name);
        points.push(pt);
        if (pt) GRID_AXES.forEach((a, k) => seen[k].add(pt[a]));
      }
    }
    this.axes = Object.fromEntries(GRID_AXES.map((a, k) => [a, [...seen[k]].sort((x, y) => Number(x) - Number(y))])) as Record<GridAxis, string[]>;
    const lookup = GRID_AXES.map((a) => new Map(this.axes[a].map((v, i) => [v, i])));
    const placed = points.filter((p) => p !== null).length;
    this.unplaced = total - placed;
    this.n = placed;
    this.ids = new Int32Array(placed);
    this.ax = new Uint16Array(placed * 4);
    this.status = new Uint8Array(placed);
    this.attempts = new Uint16Array(placed);
    this.ms = new Float64Array(placed);
    let i = 0;
    let k = 0;
    for (const p of pages) {
      for (let j = 0; j < p.ids.length; j++, k++) {
        const pt = points[k];
        if (!pt) {
          this.unplacedStatus.set(p.ids[j], p.status[j]);
          continue;
        }
        this.ids[i] = p.ids[j];
        GRID_AXES.forEach((a, q) => (this.ax[i * 4 + q] = lookup[q].get(pt[a])!));
        this.status[i] = p.status[j];
        this.attempts[i] = Math.min(p.attempts[j], 0xffff);
        this.ms[i] = p.ms[j] ?? NaN;
        this.byId.set(p.ids[j], i);
        i++;
      }
    }
  }

  indexOf(jobId: number): number {
    return this.byId.get(jobId) ?? -1;
  }

  /** Applies a progress event; the point's index, or -1 when the job is not on this map. */
  apply(ev: ProgressEvent): number {
    const i = this.indexOf(ev.jobId);
    if (i < 0) {
      if (this.unplacedStatus.has(ev.jobId)) this.unplacedStatus.set(ev.jobId, STATUS_INDEX[ev.status]);
      return -1;
    }
    this.status[i] = STATUS_INDEX[ev.status];
    this.attempts[i] = Math.min(ev.attempt, 0xffff);
    if (ev.executionMs !== undefined) this.ms[i] = ev.executionMs ?? NaN;
    return i;
  }

  /** Points per status (JOB_STATUSES order), those off the map included. */
  counts(): number[] {
    const c = new Array<number>(JOB_STATUSES.length).fill(0);
    for (let i = 0; i < this.n; i++) c[this.status[i]]++;
    for (const s of this.unplacedStatus.values()) c[s]++;
    return c;
  }
}
