import { GridSummary, JOB_STATUSES, JobRow } from '@pdr/contracts';
import { formatTable } from './table';
import { formatDuration, formatRate, shortDate } from './format';

/** Counts per status of a grid, as a two-column table with the total. */
export function countsTable(grid: GridSummary): string {
  const rows: { status: string; count: number }[] = JOB_STATUSES.map((s) => ({ status: s, count: grid.counts[s] }));
  rows.push({ status: 'total', count: grid.total });
  return formatTable(
    [
      { header: 'STATUS', value: (r: { status: string; count: number }) => r.status },
      { header: 'POINTS', value: (r) => r.count, align: 'right' },
    ],
    rows,
  );
}

/**
 * Rate and ETA of an unfinished grid: the points that reached an end since its first start, per unit of
 * time, and the points left at that rate. Null when nothing is left or nothing has ended yet.
 */
export function gridPace(grid: GridSummary, now = Date.now()): string | null {
  const c = grid.counts;
  const left = c.pending + c.queued + c.running;
  if (left === 0 || !grid.firstStartedAt) return null;
  const ended = c.finished + c.skipped + c.problem + c.failed + c.cancelled;
  const elapsedS = (now - new Date(grid.firstStartedAt).getTime()) / 1000;
  if (ended === 0 || !(elapsedS > 0)) return `rate -, ETA - (${left} point(s) left, none ended yet)`;
  const rate = ended / elapsedS;
  return `rate ${formatRate(rate)}, ETA ${formatDuration((left / rate) * 1000)} (${left} point(s) left)`;
}

/** Status of one grid: identity, storage path, timing, rate and ETA, counts. */
export function gridSummaryText(grid: GridSummary): string {
  const lines = [
    `grid ${grid.gridId}  model ${grid.modelName}  created ${shortDate(grid.createdAt)}`,
    `storage: ${grid.modelPath}`,
  ];
  if (grid.requestHash) lines.push(`config ${grid.requestHash.slice(0, 8)} (grids of one model with different config hashes were submitted with different configs: pdr status lists them)`);
  if (grid.seed !== null) lines.push(`random seed: ${grid.seed} (reproduce with --seed ${grid.seed})`);
  if (grid.firstStartedAt) {
    const end = grid.lastFinishedAt ? new Date(grid.lastFinishedAt).getTime() : Date.now();
    lines.push(
      `first start ${shortDate(grid.firstStartedAt)}, last finish ${shortDate(grid.lastFinishedAt)} (${formatDuration(end - new Date(grid.firstStartedAt).getTime())})`,
    );
  }
  const pace = gridPace(grid);
  if (pace) lines.push(pace);
  if (grid.cancelRequested) lines.push('cancel requested');
  lines.push(countsTable(grid));
  return lines.join('\n');
}

/** One line per grid of `pdr status` without an argument. */
export function gridListTable(grids: readonly GridSummary[]): string {
  return formatTable(
    [
      { header: 'GRID', value: (g: GridSummary) => g.gridId, align: 'right' },
      { header: 'MODEL', value: (g) => g.modelName, maxWidth: 40 },
      { header: 'CREATED', value: (g) => shortDate(g.createdAt) },
      // same model, different CONFIG: a resubmission with a changed config (a new grid of that model)
      { header: 'CONFIG', value: (g) => (g.requestHash ? g.requestHash.slice(0, 8) : null) },
      { header: 'TOTAL', value: (g) => g.total, align: 'right' },
      { header: 'DONE', value: (g) => g.counts.finished + g.counts.skipped, align: 'right' },
      { header: 'PROBLEM', value: (g) => g.counts.problem, align: 'right' },
      { header: 'FAILED', value: (g) => g.counts.failed, align: 'right' },
      { header: 'RUNNING', value: (g) => g.counts.running, align: 'right' },
      { header: 'QUEUED', value: (g) => g.counts.pending + g.counts.queued, align: 'right' },
      { header: 'CANCELLED', value: (g) => g.counts.cancelled, align: 'right' },
    ],
    grids,
  );
}

/** Jobs with name, status and reason (the points that did not finish, at the end of a run). */
export function failedJobsTable(jobs: readonly JobRow[], wide = false): string {
  return formatTable(
    [
      { header: 'JOB', value: (j: JobRow) => j.jobName },
      { header: 'STATUS', value: (j) => j.status },
      { header: 'ATTEMPT', value: (j) => j.attempt, align: 'right' },
      { header: 'REASON', value: (j) => j.reason ?? '-', maxWidth: wide ? undefined : 120 },
    ],
    jobs,
  );
}
