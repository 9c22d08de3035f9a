import { GridSummary, JOB_STATUSES, JobRow } from '@pdr/contracts';
import { formatTable } from './table';
import { formatDuration, shortDate } from './format';

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

/** Status of one grid: identity, storage path, timing, counts. */
export function gridSummaryText(grid: GridSummary): string {
  const lines = [
    `grid ${grid.gridId}  model ${grid.modelName}  created ${shortDate(grid.createdAt)}`,
    `storage: ${grid.modelPath}`,
  ];
  if (grid.seed !== null) lines.push(`random seed: ${grid.seed} (reproduce with --seed ${grid.seed})`);
  if (grid.firstStartedAt) {
    const end = grid.lastFinishedAt ? new Date(grid.lastFinishedAt).getTime() : Date.now();
    lines.push(
      `first start ${shortDate(grid.firstStartedAt)}, last finish ${shortDate(grid.lastFinishedAt)} (${formatDuration(end - new Date(grid.firstStartedAt).getTime())})`,
    );
  }
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
      { header: 'TOTAL', value: (g) => g.total, align: 'right' },
      { header: 'DONE', value: (g) => g.counts.finished + g.counts.skipped, align: 'right' },
      { header: 'FAILED', value: (g) => g.counts.failed + g.counts.problem, align: 'right' },
      { header: 'RUNNING', value: (g) => g.counts.running, align: 'right' },
      { header: 'QUEUED', value: (g) => g.counts.pending + g.counts.queued, align: 'right' },
      { header: 'CANCELLED', value: (g) => g.counts.cancelled, align: 'right' },
    ],
    grids,
  );
}

/** Jobs with name, status and reason (failed points at the end of a run). */
export function failedJobsTable(jobs: readonly JobRow[]): string {
  return formatTable(
    [
      { header: 'JOB', value: (j: JobRow) => j.jobName },
      { header: 'STATUS', value: (j) => j.status },
      { header: 'ATTEMPT', value: (j) => j.attempt, align: 'right' },
      { header: 'REASON', value: (j) => j.reason ?? '-', maxWidth: 120 },
    ],
    jobs,
  );
}
