import { Command, InvalidArgumentError } from 'commander';
import { JOB_STATUSES, JobRow, JobStatus, JobsQueryRequest } from '@pdr/contracts';
import { GRID_AXES, KOSMATAU_PARAMETER_NAMES } from '@pdr/domain';
import type { ContractClient } from '@pdr/messaging/client';
import { CliContext, withSession } from '../context';
import { UsageError } from '../errors';
import { csvRow } from '../output/csv';
import { formatDuration, shortDate } from '../output/format';
import { formatTable } from '../output/table';
import { parseGridRef } from './grid-ref';
import { positiveInt } from './options';

/** Parameter columns of the CSV: the grid coordinates first, then every other physics column (not the chemistry list). */
export const CSV_PARAMETER_COLUMNS: readonly string[] = (() => {
  const first = ['zmetal', 'xnsur', 'mass', 'sint', 'rtot', 'alpha', 'rcore'];
  return [...first, ...KOSMATAU_PARAMETER_NAMES.filter((n) => !first.includes(n) && n !== 'species')];
})();

const CSV_JOB_COLUMNS = [
  'job_id',
  'grid_id',
  'model_name',
  'job_name',
  'status',
  'attempt',
  'generation',
  'reason',
  'time_of_start',
  'time_of_finish',
  'execution_ms',
  'runner_id',
] as const;

/**
 * The encoded axis values of the point (pdr_run's strings, as in the job name: axis_dens "30"), beside the
 * physical values (xnsur 1000); prefixed because `mass` is also a parameter column.
 */
const CSV_AXIS_COLUMNS = GRID_AXES.map((a) => `axis_${a}`);

export function csvHeader(): string {
  return csvRow([...CSV_JOB_COLUMNS, ...CSV_AXIS_COLUMNS, ...CSV_PARAMETER_COLUMNS, 'output_directory', 'files']);
}

/** `100_30_-10_10_00` → ['100', '30', '-10', '10'] (nulls for a name of another shape). */
export function axisStringsOf(jobName: string): (string | null)[] {
  const parts = jobName.split('_');
  return CSV_AXIS_COLUMNS.map((_a, i) => (parts.length === 5 ? parts[i] : null));
}

/** Seconds a job ran (finished) or has been running (now − start). */
export function elapsedSeconds(j: JobRow, now = Date.now()): number | null {
  if (j.status === 'running' && j.timeOfStart) return Math.max(0, (now - new Date(j.timeOfStart).getTime()) / 1000);
  return j.executionMs === null ? null : j.executionMs / 1000;
}

export function jobCsvLine(j: JobRow): string {
  const p = j.parameters ?? {};
  return csvRow([
    j.jobId,
    j.gridId,
    j.modelName,
    j.jobName,
    j.status,
    j.attempt,
    j.generation,
    j.reason,
    j.timeOfStart,
    j.timeOfFinish,
    j.executionMs,
    j.runnerId,
    ...axisStringsOf(j.jobName),
    ...CSV_PARAMETER_COLUMNS.map((c) => p[c] ?? null),
    j.outputDirectory,
    (j.files ?? []).map((f) => f.fullPath).join(';'),
  ]);
}

export function jobsTable(jobs: readonly JobRow[], wide = false, now = Date.now()): string {
  return formatTable(
    [
      { header: 'ID', value: (j: JobRow) => j.jobId, align: 'right' },
      { header: 'GRID', value: (j) => j.gridId, align: 'right' },
      { header: 'MODEL', value: (j) => j.modelName, maxWidth: 30 },
      { header: 'JOB', value: (j) => j.jobName },
      { header: 'STATUS', value: (j) => j.status },
      { header: 'ATT', value: (j) => j.attempt, align: 'right' },
      { header: 'STARTED', value: (j) => shortDate(j.timeOfStart) },
      { header: 'FINISHED', value: (j) => shortDate(j.timeOfFinish) },
      { header: 'ELAPSED', value: (j) => (elapsedSeconds(j, now) === null ? null : formatDuration((elapsedSeconds(j, now) as number) * 1000)), align: 'right' },
      { header: 'REASON', value: (j) => j.reason, maxWidth: wide ? undefined : 60 },
    ],
    jobs,
  );
}

export interface JobsFilter {
  gridId?: number;
  modelName?: string;
  status?: JobStatus[];
}

/** Every job matching the filter, page by page (keyset paging on afterId), at most `limit`. */
export async function* pageJobs(
  client: ContractClient,
  filter: JobsFilter,
  opts: { limit?: number; pageSize?: number; withParameters?: boolean; withFiles?: boolean } = {},
): AsyncGenerator<JobRow[], void, undefined> {
  let afterId = 0;
  let left = opts.limit ?? Infinity;
  const pageSize = opts.pageSize ?? 1000;
  while (left > 0) {
    const req: JobsQueryRequest = {
      v: 1,
      ...filter,
      afterId,
      limit: Math.min(pageSize, left),
      withParameters: opts.withParameters ?? false,
      withFiles: opts.withFiles ?? false,
    };
    const { jobs, nextAfterId } = await client.request('jobsQuery', req);
    const page = jobs.slice(0, Math.min(jobs.length, left));
    if (page.length > 0) yield page;
    left -= page.length;
    if (nextAfterId === null || jobs.length === 0 || nextAfterId <= afterId) return;
    afterId = nextAfterId;
  }
}

export function parseStatus(value: string, previous: JobStatus[] = []): JobStatus[] {
  const out = [...previous];
  for (const s of value.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    if (!(JOB_STATUSES as readonly string[]).includes(s)) {
      throw new InvalidArgumentError(`unknown status "${s}"; one of ${JOB_STATUSES.join(', ')}.`);
    }
    out.push(s as JobStatus);
  }
  return out;
}

export interface JobsOptions {
  grid?: string;
  model?: string;
  status?: JobStatus[];
  limit?: number;
  json?: boolean;
  csv?: boolean;
  wide?: boolean;
}

export async function runJobs(ctx: CliContext, opts: JobsOptions): Promise<number> {
  if (opts.json && opts.csv) throw new UsageError('--json and --csv cannot be used together');
  const filter: JobsFilter = {};
  const gridRef = opts.grid === undefined ? undefined : parseGridRef(opts.grid);
  if (opts.model !== undefined) filter.modelName = opts.model;
  if (opts.status && opts.status.length > 0) filter.status = [...new Set(opts.status)];
  const full = opts.json === true || opts.csv === true;
  return withSession(ctx, async ({ client }) => {
    if (gridRef !== undefined) {
      // a model name given as --grid means its latest grid; a grid that does not exist is a mistake (exit 2), not "no jobs"
      filter.gridId = (await client.request('gridStatus', { selector: gridRef })).grid.gridId;
    }
    if (filter.modelName !== undefined) await client.request('gridStatus', { selector: { modelName: filter.modelName } });
    const pages = pageJobs(client, filter, { limit: opts.limit, withParameters: full, withFiles: full });
    if (opts.csv) {
      ctx.io.out(csvHeader());
      for await (const page of pages) ctx.io.out(page.map(jobCsvLine).join('\n'));
      return 0;
    }
    if (opts.json) {
      let first = true;
      ctx.io.write('[');
      for await (const page of pages) {
        for (const j of page) {
          ctx.io.write(`${first ? '\n' : ',\n'}${JSON.stringify(j)}`);
          first = false;
        }
      }
      ctx.io.out(first ? ']' : '\n]');
      return 0;
    }
    const all: JobRow[] = [];
    for await (const page of pages) all.push(...page);
    ctx.io.out(all.length === 0 ? 'no jobs match' : jobsTable(all, opts.wide === true));
    return 0;
  });
}

export function registerJobs(program: Command, ctx: () => CliContext): void {
  program
    .command('jobs')
    .description('list jobs (all pages) as a table, JSON or CSV with parameters and output paths')
    .option('--grid <grid>', 'grid id or model name (its latest grid)')
    .option('--model <name>', 'all grids of this model name')
    .option('--status <status...>', `only these statuses (${JOB_STATUSES.join(', ')}; comma or space separated)`, parseStatus)
    .option('--limit <n>', 'at most n jobs (default: all)', positiveInt)
    .option('--json', 'JSON array with parameters and stored files')
    .option('--csv', 'CSV with the axis strings (metal, dens, mass, chi), parameters (zmetal, xnsur, mass, sint, rtot, ...) and output paths')
    .option('--wide', 'do not cut the reasons')
    .action(async (opts: JobsOptions) => {
      await runJobs(ctx(), opts);
    });
}
