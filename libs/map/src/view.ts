import { GRID_AXES, GridAxis } from '@pdr/domain';
import { JOB_STATUSES } from '@pdr/contracts';
import { GridModel, STATUS_INDEX } from './model';

export const COLOUR_MODES = ['status', 'time', 'attempts'] as const;
export type ColourMode = (typeof COLOUR_MODES)[number];

/** What a map shows: two axes, one value (index) or every value ('all') of each other axis, what colours a cell. */
export interface ViewSpec {
  x: GridAxis;
  y: GridAxis;
  /** For each axis that is neither x nor y: a value index, or 'all' (cells then aggregate over it). */
  fixed: Partial<Record<GridAxis, number | 'all'>>;
  colour: ColourMode;
}

/**
 * The status a cell of several points shows: the one that most needs the user's eye first (a failure
 * anywhere in the cell), then work still to do, then the done states.
 */
export const STATUS_PRIORITY: readonly number[] = (['failed', 'problem', 'running', 'queued', 'pending', 'cancelled', 'skipped', 'finished'] as const).map(
  (s) => STATUS_INDEX[s],
);
const RANK = (() => {
  const r = new Array<number>(JOB_STATUSES.length);
  STATUS_PRIORITY.forEach((s, i) => (r[s] = i));
  return r;
})();

/** Compact cell arrays of a view: index k = iy * nx + ix. `status` -1 = no point in the cell. */
export interface Cells {
  nx: number;
  ny: number;
  status: number[];
  /** Mean run time in ms (time), highest attempt count (attempts), or null (status / nothing known). */
  value: (number | null)[];
  /** Points in the cell. */
  n: number[];
  /** The job id of a cell with exactly one point, else 0. */
  job: number[];
}

/** A view of a model: which cell each point falls into (or -1), and the members of every cell. */
export class MapView {
  readonly nx: number;
  readonly ny: number;
  private readonly cellOf: Int32Array;
  private readonly start: Int32Array;
  private readonly members: Int32Array;

  constructor(
    readonly model: GridModel,
    readonly spec: ViewSpec,
  ) {
    const xa = GRID_AXES.indexOf(spec.x);
    const ya = GRID_AXES.indexOf(spec.y);
    this.nx = model.axes[spec.x].length;
    this.ny = model.axes[spec.y].length;
    const filters = GRID_AXES.map((a, q) => [q, spec.fixed[a] ?? 'all'] as const).filter(([q, f]) => q !== xa && q !== ya && f !== 'all') as [number, number][];
    const cells = this.nx * this.ny;
    this.cellOf = new Int32Array(model.n);
    const count = new Int32Array(cells + 1);
    for (let i = 0; i < model.n; i++) {
      let k = -1;
      if (filters.every(([q, v]) => model.ax[i * 4 + q] === v)) {
        k = model.ax[i * 4 + ya] * this.nx + model.ax[i * 4 + xa];
        count[k + 1]++;
      }
      this.cellOf[i] = k;
    }
    this.start = new Int32Array(cells + 1);
    for (let k = 0; k < cells; k++) this.start[k + 1] = this.start[k] + count[k + 1];
    this.members = new Int32Array(this.start[cells]);
    const fill = this.start.slice(0, cells);
    for (let i = 0; i < model.n; i++) if (this.cellOf[i] >= 0) this.members[fill[this.cellOf[i]]++] = i;
  }

  cellOfPoint(i: number): number {
    return this.cellOf[i];
  }

  /** The point indices in cell k. */
  pointsIn(k: number): Int32Array {
    return this.members.subarray(this.start[k], this.start[k + 1]);
  }

  /** [status, value, n, job] of cell k. */
  cell(k: number): [number, number | null, number, number] {
    const m = this.model;
    const pts = this.pointsIn(k);
    if (pts.length === 0) return [-1, null, 0, 0];
    let best = m.status[pts[0]];
    let sum = 0;
    let timed = 0;
    let maxAttempts = 0;
    for (const i of pts) {
      if (RANK[m.status[i]] < RANK[best]) best = m.status[i];
      if (!Number.isNaN(m.ms[i])) {
        sum += m.ms[i];
        timed++;
      }
      if (m.attempts[i] > maxAttempts) maxAttempts = m.attempts[i];
    }
    const value = this.spec.colour === 'time' ? (timed ? Math.round(sum / timed) : null) : this.spec.colour === 'attempts' ? maxAttempts : null;
    return [best, value, pts.length, pts.length === 1 ? m.ids[pts[0]] : 0];
  }

  cells(): Cells {
    const total = this.nx * this.ny;
    const out: Cells = { nx: this.nx, ny: this.ny, status: new Array(total), value: new Array(total), n: new Array(total), job: new Array(total) };
    for (let k = 0; k < total; k++) {
      const [s, v, n, j] = this.cell(k);
      out.status[k] = s;
      out.value[k] = v;
      out.n[k] = n;
      out.job[k] = j;
    }
    return out;
  }

  /** The changed cells of the given points, flat: [k, status, value, n, job, k, ...]. */
  delta(points: Iterable<number>): (number | null)[] {
    const ks = new Set<number>();
    for (const i of points) {
      const k = this.cellOf[i];
      if (k >= 0) ks.add(k);
    }
    const out: (number | null)[] = [];
    for (const k of ks) out.push(k, ...this.cell(k));
    return out;
  }
}

/** A view spec from query parameters; a clear error naming the parameter for a bad one. */
export function parseViewSpec(q: URLSearchParams, model: GridModel): ViewSpec {
  const axis = (name: string, dflt: GridAxis): GridAxis => {
    const v = q.get(name) ?? dflt;
    if (!(GRID_AXES as readonly string[]).includes(v)) throw new ViewError(`${name}=${v}: expected one of ${GRID_AXES.join(', ')}`);
    return v as GridAxis;
  };
  const x = axis('x', 'dens');
  const y = axis('y', 'chi');
  if (x === y) throw new ViewError(`x and y are both ${x}: choose two different axes`);
  const colour = q.get('colour') ?? 'status';
  if (!(COLOUR_MODES as readonly string[]).includes(colour)) throw new ViewError(`colour=${colour}: expected one of ${COLOUR_MODES.join(', ')}`);
  const fixed: ViewSpec['fixed'] = {};
  for (const a of GRID_AXES) {
    if (a === x || a === y) continue;
    const v = q.get(a);
    if (v === null || v === 'all') {
      fixed[a] = 'all';
      continue;
    }
    const idx = model.axes[a].indexOf(v);
    if (idx < 0) throw new ViewError(`${a}=${v}: not a value of this grid (${model.axes[a].join(', ')})`);
    fixed[a] = idx;
  }
  return { x, y, fixed, colour: colour as ColourMode };
}

export class ViewError extends Error {
  override name = 'ViewError';
}
