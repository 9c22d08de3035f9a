import * as fs from 'fs';
import { Command } from 'commander';
import { CliContext, withSession } from '../context';
import { CliError, EXIT, exitWith } from '../errors';
import { getJob, JobGet, readStored, textoutSource } from './job-ref';

export interface LogOptions {
  model?: string;
  species?: string;
  follow?: boolean;
}

/** How often --follow looks at the growing file, and how often it asks state whether the job still runs. */
const FOLLOW_READ_MS = 500;
const FOLLOW_STATUS_MS = 2000;
const UNFINISHED = new Set(['pending', 'queued', 'running']);

/** The bytes of `file` from `offset` on; none when the file is gone (the runner removed the job directory). */
function readFrom(file: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `pdr log <job> [--follow]`: the job's TEXTOUT (PDR's, or an onion species' with --species). A finished
 * job's comes from storage (through the storage backend of its grid); a running job's from its job
 * directory on the runner, when this machine sees it. --follow prints what is appended while the job runs
 * (waiting for a queued one to start) and ends with the job, completed from the stored copy.
 */
export async function runLog(ctx: CliContext, ref: string, o: LogOptions): Promise<number> {
  return withSession(ctx, async ({ client }) => {
    let j: JobGet = await getJob(client, ref, o.model);
    if (o.species !== undefined && j.grid && !j.grid.onionSpecies.includes(o.species)) {
      throw new CliError(`--species ${o.species}: job ${j.job.jobId} runs onion for ${j.grid.onionSpecies.join(', ')}`, EXIT.USAGE);
    }
    if (!o.follow) {
      const src = textoutSource(j, o.species);
      if (src.kind === 'none') throw new CliError(src.why, EXIT.FAILED);
      ctx.io.write((src.kind === 'stored' ? await readStored(j, src.relPath) : fs.readFileSync(src.file)).toString('utf8'));
      return EXIT.OK;
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      let printed = 0;
      let lastStatusAt = Date.now();
      let said = '';
      for (;;) {
        if (stop.signal.aborted) return EXIT.INTERRUPTED;
        const src = textoutSource(j, o.species);
        if (src.kind === 'live') {
          const chunk = readFrom(src.file, printed);
          if (chunk.length > 0) {
            ctx.io.write(chunk.toString('utf8'));
            printed += chunk.length;
          }
        } else if (UNFINISHED.has(j.job.status) && src.kind === 'none' && said !== src.why + j.job.status) {
          said = src.why + j.job.status;
          ctx.io.err(`pdr: ${j.job.status === 'running' ? src.why : `job ${j.job.jobId} is ${j.job.status}; waiting for it to start`}`);
        }
        if (!UNFINISHED.has(j.job.status)) {
          // the rest (or all of it) from the stored copy: it is the same file, stored after the run
          const done = textoutSource(j, o.species);
          if (done.kind === 'stored') {
            const all = await readStored(j, done.relPath);
            if (all.length > printed) ctx.io.write(all.subarray(printed).toString('utf8'));
          } else if (printed === 0) throw new CliError(done.kind === 'none' ? done.why : `job ${j.job.jobId} has no TEXTOUT`, EXIT.FAILED);
          return EXIT.OK;
        }
        await new Promise((r) => setTimeout(r, FOLLOW_READ_MS));
        if (Date.now() - lastStatusAt >= FOLLOW_STATUS_MS) {
          j = await getJob(client, String(j.job.jobId));
          lastStatusAt = Date.now();
        }
      }
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
  });
}

export function registerLog(program: Command, ctx: () => CliContext): void {
  program
    .command('log')
    .argument('<job>', 'job id, or job name such as 100_30_-10_10_00 (its latest job)')
    .description("a job's TEXTOUT: from storage, or live from its job directory while it runs (--follow)")
    .option('--model <name>', 'with a job name: the job of this model name')
    .option('--species <name>', "an onion species' TEXTOUT instead of PDR's")
    .option('-f, --follow', 'keep printing while the job runs; ends when it ends')
    .action(async (ref: string, opts: LogOptions) => {
      exitWith(await runLog(ctx(), ref, opts));
    });
}
