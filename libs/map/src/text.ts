import { GRID_AXES } from '@pdr/domain';
import { JOB_STATUSES, JobStatus } from '@pdr/contracts';
import { GridModel } from './model';
import { MapView, STATUS_PRIORITY, ViewSpec } from './view';

/** One character per status in a text map; a blank is a cell without a point. */
export const STATUS_CHARS: Readonly<Record<JobStatus, string>> = {
  pending: '.',
  queued: ':',
  running: '>',
  finished: '#',
  problem: 'P',
  failed: 'X',
  skipped: '=',
  cancelled: '-',
};

const RANK = (() => {
  const r = new Array<number>(JOB_STATUSES.length);
  STATUS_PRIORITY.forEach((s, i) => (r[s] = i));
  return r;
})();

export interface TextMapOptions {
  /** Most character columns of cells; wider axes are binned (default 100). */
  maxColumns?: number;
  /** Most rows of cells; longer axes are binned (default 40). */
  maxRows?: number;
}

/**
 * The map of a view in characters, for a terminal: one character per point (or per bin of neighbouring
 * values when an axis has more values than fit), the most notable status of what it covers (as on the
 * dashboard), y growing upwards, a legend with counts.
 */
export function renderTextMap(model: GridModel, spec: ViewSpec, o: TextMapOptions = {}): string {
  const view = new MapView(model, { ...spec, colour: 'status' });
  const cells = view.cells();
  const { nx, ny } = cells;
  const bx = Math.max(1, Math.ceil(nx / (o.maxColumns ?? 100)));
  const by = Math.max(1, Math.ceil(ny / (o.maxRows ?? 40)));
  const cols = Math.ceil(nx / bx);
  const rows = Math.ceil(ny / by);
  const xs = model.axes[spec.x];
  const ys = model.axes[spec.y];
  const label = (values: string[], i: number, b: number) => (b === 1 ? values[i * b] : `${values[i * b]}…${values[Math.min(values.length, (i + 1) * b) - 1]}`);
  const yLabels = Array.from({ length: rows }, (_, j) => label(ys, j, by));
  const yw = Math.max(spec.y.length, ...yLabels.map((l) => l.length));
  const lines: string[] = [];
  const others = GRID_AXES.filter((a) => a !== spec.x && a !== spec.y).map((a) => {
    const f = spec.fixed[a] ?? 'all';
    return f === 'all' ? `${a}: ${model.axes[a].length === 1 ? model.axes[a][0] : `all ${model.axes[a].length} values`}` : `${a}: ${model.axes[a][f]}`;
  });
  lines.push(`${spec.x} (x) × ${spec.y} (y); ${others.join(', ')}${bx > 1 || by > 1 ? `; one character = ${bx} × ${by} values` : ''}`);
  lines.push(spec.y.padStart(yw));
  for (let j = rows - 1; j >= 0; j--) {
    let line = '';
    for (let i = 0; i < cols; i++) {
      let best = -1;
      for (let iy = j * by; iy < Math.min(ny, (j + 1) * by); iy++) {
        for (let ix = i * bx; ix < Math.min(nx, (i + 1) * bx); ix++) {
          const s = cells.status[iy * nx + ix];
          if (s >= 0 && (best < 0 || RANK[s] < RANK[best])) best = s;
        }
      }
      line += best < 0 ? ' ' : STATUS_CHARS[JOB_STATUSES[best]];
    }
    lines.push(`${yLabels[j].padStart(yw)} |${line}`);
  }
  lines.push(`${' '.repeat(yw)} +${'-'.repeat(cols)} ${spec.x}`);
  // x values written downwards under their column (every column, or every 5th when there are many)
  const step = cols <= 60 ? 1 : 5;
  const xLabels = Array.from({ length: cols }, (_, i) => (i % step === 0 ? xs[i * bx] : ''));
  const depth = Math.max(...xLabels.map((l) => l.length));
  for (let k = 0; k < depth; k++) lines.push(`${' '.repeat(yw)}  ${xLabels.map((l) => l[k] ?? ' ').join('')}`.trimEnd());
  const counts = model.counts();
  lines.push(
    JOB_STATUSES.map((s, i) => [s, i] as const)
      .filter(([, i]) => counts[i] > 0)
      .map(([s, i]) => `${STATUS_CHARS[s]} ${s} ${counts[i]}`)
      .join('   '),
  );
  if (model.unplaced) lines.push(`${model.unplaced} job(s) with names not of the form metal_dens_mass_chi_00 are not on the map`);
  return lines.join('\n');
}
