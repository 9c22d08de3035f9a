import * as fs from 'fs';
import { Command } from 'commander';
import { GRID_AXES } from '@pdr/domain';
import { CliContext, withSession } from '../context';
import { formatDuration, shortDate } from '../output/format';
import { formatTable } from '../output/table';
import { getJob, hostOf, JobAttemptInfo, JobGet, keptDirs, lastLines, readStored, textoutSource } from './job-ref';
import { positiveInt } from './options';

export interface ShowOptions {
  model?: string;
  wide?: boolean;
  json?: boolean;
  lines?: number;
}

/** The physical parameters shown by default (the grid coordinates and the clump geometry); --wide: every column. */
const MAIN_PARAMETERS = ['zmetal', 'xnsur', 'mass', 'sint', 'rtot', 'alpha', 'rcore'] as const;
const REASON_WIDTH = 70;

/** `100_30_-10_10_00` → metal=100 dens=30 mass=-10 chi=10 (a job name is its point's encoded axis values). */
export function axesOfJobName(jobName: string): string {
  const parts = jobName.split('_');
  if (parts.length !== 5) return '-';
  return GRID_AXES.map((a, i) => `${a}=${parts[i]}`).join(' ');
}

function exitCodesText(a: JobAttemptInfo): string {
  const e = a.exitCodes;
  if (!e) return '-';
  const onion = Object.entries(e.onion).map(([s, c]) => `${s}=${c === null ? '-' : c}`);
  return [`pdr=${e.pdr === null ? '-' : e.pdr}`, ...onion].join(' ');
}

function stepDetail(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  const d = detail as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ['species', 'exitCode', 'signal', 'timedOut', 'durationMs', 'files', 'bytes', 'reason', 'workDir']) {
    if (d[k] === undefined || d[k] === null || d[k] === false) continue;
    parts.push(k === 'durationMs' ? `took ${formatDuration(Number(d[k]))}` : `${k}=${String(d[k])}`);
  }
  return parts.join(' ');
}

function cut(s: string, wide: boolean | undefined, width: number): string {
  const one = s.replace(/\s*[\r\n]+\s*/g, ' ');
  return wide || one.length <= width ? one : `${one.slice(0, width - 1)}… (--wide: whole)`;
}

/** The text of `pdr show` for one job (TEXTOUT lines appended by the caller). */
export function showText(j: JobGet, o: ShowOptions): string {
  const job = j.job;
  const lines: string[] = [];
  lines.push(`job ${job.jobId}  ${job.jobName}  model ${job.modelName}${job.gridId !== null ? `  grid ${job.gridId}` : ''}`);
  if (j.sameName !== undefined && j.sameName > 1) lines.push(`(${j.sameName} jobs have this name; this is the latest: choose with --model or the job id)`);
  lines.push(`status      ${job.status}${job.reason ? ` — ${cut(job.reason, o.wide, 200)}` : ''}`);
  lines.push(`axes        ${axesOfJobName(job.jobName)}`);
  const p = job.parameters ?? {};
  const names = o.wide ? Object.keys(p) : MAIN_PARAMETERS.filter((n) => p[n] !== undefined);
  lines.push(`physics     ${names.map((n) => `${n}=${String(p[n])}`).join(' ')}${o.wide ? '' : '  (--wide: every column)'}`);
  if (job.timeOfStart) {
    const end = job.timeOfFinish ? new Date(job.timeOfFinish).getTime() : Date.now();
    lines.push(`time        started ${shortDate(job.timeOfStart)}, ${job.timeOfFinish ? `finished ${shortDate(job.timeOfFinish)}` : 'still running'} (${formatDuration(end - new Date(job.timeOfStart).getTime())})`);
  }
  if (job.outputDirectory) lines.push(`outputs     ${job.outputDirectory}`);
  const kept = keptDirs(j);
  if (kept.length > 0) lines.push(`kept dir    ${kept.join(', ')} (--keep-tmp)`);
  else if (j.grid?.keepTmp) lines.push('kept dir    - (--keep-tmp: none reported yet)');

  lines.push('', `attempts (${j.attempts.length}):`);
  if (j.attempts.length === 0) lines.push('  none yet');
  else {
    lines.push(
      formatTable(
        [
          { header: 'ATT', value: (a: JobAttemptInfo) => a.attempt, align: 'right' },
          { header: 'RUNNER', value: (a) => a.runnerId, maxWidth: o.wide ? undefined : 36 },
          { header: 'HOST', value: (a) => hostOf(a.runnerId) },
          { header: 'STARTED', value: (a) => shortDate(a.startedAt) },
          { header: 'ENDED', value: (a) => shortDate(a.finishedAt) },
          { header: 'STATUS', value: (a) => a.status },
          { header: 'EXIT', value: (a) => exitCodesText(a) },
          { header: 'REASON', value: (a) => a.reason, maxWidth: o.wide ? undefined : REASON_WIDTH },
        ],
        j.attempts,
      ),
    );
    for (const a of j.attempts) {
      if (a.steps.length === 0) continue;
      lines.push('', `steps of attempt ${a.attempt}:`);
      const t0 = new Date(a.steps[0].at).getTime();
      for (const s of a.steps) {
        const dt = (new Date(s.at).getTime() - t0) / 1000;
        lines.push(`  ${shortDate(s.at)}  +${dt.toFixed(1).padStart(6)}s  ${s.step}${stepDetail(s.detail) ? `  ${cut(stepDetail(s.detail), o.wide, 120)}` : ''}`);
      }
    }
  }
  const files = job.files ?? [];
  lines.push('', `stored files (${files.length}):`);
  if (files.length === 0) lines.push('  none');
  else {
    lines.push(
      formatTable(
        [
          { header: 'ROLE', value: (f: (typeof files)[number]) => f.role },
          { header: 'FILE', value: (f) => (o.wide ? f.fullPath : f.fileName) },
          { header: 'BYTES', value: (f) => f.size, align: 'right' },
          { header: 'SHA256', value: (f) => (o.wide ? f.sha256 : `${f.sha256.slice(0, 16)}…`) },
        ],
        files,
      ),
    );
  }
  return lines.join('\n');
}

/** The last lines of the job's TEXTOUT (stored copy through the storage backend, or the live file while it runs). */
async function textoutTail(j: JobGet, n: number): Promise<string[]> {
  const src = textoutSource(j);
  if (src.kind === 'none') return [`  (${src.why})`];
  try {
    const text = src.kind === 'stored' ? (await readStored(j, src.relPath)).toString('utf8') : fs.readFileSync(src.file, 'utf8');
    const what = src.kind === 'stored' ? `stored ${src.relPath}` : `live, ${src.file}`;
    return [`last ${n} lines of TEXTOUT (${what}; all of it: pdr log ${j.job.jobId}):`, ...lastLines(text, n).map((l) => `  ${l}`)];
  } catch (err) {
    return [`  (TEXTOUT cannot be read: ${(err as Error).message})`];
  }
}

export async function runShow(ctx: CliContext, ref: string, o: ShowOptions): Promise<number> {
  return withSession(ctx, async ({ client }) => {
    const j = await getJob(client, ref, o.model);
    if (o.json) {
      ctx.io.out(JSON.stringify(j, null, 2));
      return 0;
    }
    ctx.io.out(showText(j, o));
    ctx.io.out('');
    for (const l of await textoutTail(j, o.lines ?? 10)) ctx.io.out(l);
    return 0;
  });
}

export function registerShow(program: Command, ctx: () => CliContext): void {
  program
    .command('show')
    .argument('<job>', 'job id, or job name such as 100_30_-10_10_00 (its latest job)')
    .description('one point explained: axis values, physics, every attempt, steps, stored files, the end of its TEXTOUT')
    .option('--model <name>', 'with a job name: the job of this model name')
    .option('--wide', 'do not cut reasons, paths and checksums; every parameter column')
    .option('--lines <n>', 'lines of TEXTOUT shown (default 10)', positiveInt)
    .option('--json', 'the whole record as JSON')
    .action(async (ref: string, opts: ShowOptions) => {
      await runShow(ctx(), ref, opts);
    });
}
