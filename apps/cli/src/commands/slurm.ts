import * as path from 'path';
import { Command } from 'commander';
import { names, type HealthPingReply } from '@pdr/contracts';
import type { ConfigFlags, NatsConfig, SlurmConfig } from '@pdr/config';
import { maskUrl } from '@pdr/logging';
import { CliContext, namespaceOf, withSession } from '../context';
import { UsageError } from '../errors';
import { config as configLib, messaging } from '../lazy';
import { noticeLine, warningLine } from '../output/io';
import { formatTable } from '../output/table';
import { decideScale } from '../slurm/scale';
import { renderPilotScript } from '../slurm/script';
import { checkJobIds, listPilots, Pilot, sbatch, scancel } from '../slurm/slurm';
import { nonNegativeInt, positiveInt } from './options';

interface SlurmFlags {
  config?: string;
  jobName?: string;
  partition?: string;
  account?: string;
  qos?: string;
  time?: string;
  cpusPerTask?: string;
  mem?: string;
  workDir?: string;
  signalSeconds?: string;
  idleExit?: string;
  cooldown?: string;
  min?: number;
  max?: number;
}

/** Autoscaler rounds: often enough to follow a queue, rare enough not to load squeue (limits of the scheduler). */
export const SCALE_INTERVAL_MS = 10_000;

/** The effective `slurm` and `nats` sections: flags > config file > defaults. */
function loadSlurm(ctx: CliContext, f: SlurmFlags): { slurm: SlurmConfig; nats: NatsConfig; file?: string } {
  const flags: ConfigFlags = {
    slurm: Object.fromEntries(
      Object.entries({
        job_name: f.jobName,
        partition: f.partition,
        account: f.account,
        qos: f.qos,
        time: f.time,
        cpus_per_task: f.cpusPerTask,
        mem: f.mem,
        work_dir: f.workDir,
        signal_seconds: f.signalSeconds,
        idle_exit_seconds: f.idleExit,
        scale_cooldown_seconds: f.cooldown,
        min_pilots: f.min,
        max_pilots: f.max,
      }).filter(([, v]) => v !== undefined),
    ) as Partial<SlurmConfig>,
  };
  const { config, warnings, file } = configLib().loadConfig({ file: f.config, env: ctx.env, cwd: ctx.cwd, flags, ignoreSections: ['database'] });
  for (const w of warnings) ctx.io.err(warningLine(w));
  const s = config.slurm;
  if (s.min_pilots > s.max_pilots) throw new UsageError(`--min ${s.min_pilots} is above --max ${s.max_pilots}`);
  if (s.time) {
    const secs = timeLimitSeconds(s.time);
    if (secs !== null && secs <= s.signal_seconds) {
      throw new UsageError(`slurm.time ${s.time} is not longer than slurm.signal_seconds ${s.signal_seconds}: the pilot would be told to stop as it starts`);
    }
  }
  return { slurm: s, nats: config.nats, file };
}

/** sbatch --time → seconds (minutes; MM:SS; HH:MM:SS; D-HH[:MM[:SS]]). */
export function timeLimitSeconds(t: string): number | null {
  let m = /^(\d+)$/.exec(t);
  if (m) return Number(m[1]) * 60;
  m = /^(\d+):(\d+)$/.exec(t);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  m = /^(\d+):(\d+):(\d+)$/.exec(t);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  m = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (m) return Number(m[1]) * 86400 + Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return null;
}

function scriptFor(ctx: CliContext, s: { slurm: SlurmConfig; nats: NatsConfig; file?: string }): string {
  const appsDir = ctx.env.PDR_APPS_DIR ? path.resolve(ctx.cwd, ctx.env.PDR_APPS_DIR) : path.join(ctx.repoRoot, 'apps');
  return renderPilotScript(s.slurm, {
    node: process.execPath,
    runnerMain: path.join(appsDir, 'runner', 'dist', 'main.js'),
    ns: namespaceOf(ctx.env),
    natsUrl: s.nats.url,
    configFile: s.file,
  });
}

async function submitPilots(ctx: CliContext, script: string, n: number, slots: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await sbatch(script);
    ids.push(id);
    ctx.io.out(`submitted pilot ${id} (${slots} slot${slots === 1 ? '' : 's'})`);
  }
  return ids;
}

export async function runSlurmSubmit(ctx: CliContext, f: SlurmFlags & { runners?: number; print?: boolean }): Promise<number> {
  const s = loadSlurm(ctx, f);
  const script = scriptFor(ctx, s);
  if (f.print) {
    ctx.io.out(script.trimEnd());
    return 0;
  }
  await submitPilots(ctx, script, f.runners ?? 1, s.slurm.cpus_per_task);
  return 0;
}

interface RunnerDetail {
  slots?: number;
  busy?: number;
  slurmJobId?: string | null;
  draining?: boolean;
  claiming?: boolean;
}

/** The health replies of runners, or null when NATS cannot be reached (squeue still answers). */
async function runnerHealth(ctx: CliContext, file?: string): Promise<HealthPingReply[] | null> {
  try {
    return await withSession(ctx, (s) => messaging().collectHealth(s.nc, s.ns), { configFile: file });
  } catch (err) {
    ctx.io.err(warningLine(`runner details unavailable: ${(err as Error).message}`));
    return null;
  }
}

export async function runSlurmStatus(ctx: CliContext, f: SlurmFlags & { json?: boolean }): Promise<number> {
  const s = loadSlurm(ctx, f);
  const pilots = await listPilots(s.slurm.job_name);
  const health = pilots.length ? await runnerHealth(ctx, s.file) : [];
  const byJob = new Map<string, RunnerDetail>();
  for (const r of health ?? []) {
    const d = r.detail as RunnerDetail;
    if (r.service === 'runner' && d.slurmJobId) byJob.set(d.slurmJobId, d);
  }
  const rows = pilots.map((p) => {
    const d = byJob.get(p.jobId);
    return {
      jobId: p.jobId,
      state: p.state,
      node: p.node || null,
      slots: d?.slots ?? p.cpus,
      running: d ? (d.busy ?? 0) : null,
      claiming: d ? d.claiming !== false && !d.draining : null,
      timeLeft: p.timeLeft,
    };
  });
  if (f.json) {
    ctx.io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (!rows.length) {
    ctx.io.out(`no pilots (job name ${s.slurm.job_name}); submit with pdr slurm submit or pdr slurm scale`);
    return 0;
  }
  ctx.io.out(
    formatTable(
      [
        { header: 'JOBID', value: (r: (typeof rows)[number]) => r.jobId },
        { header: 'STATE', value: (r) => r.state },
        { header: 'NODE', value: (r) => r.node },
        { header: 'SLOTS', value: (r) => r.slots },
        { header: 'RUNNING', value: (r) => r.running },
        { header: 'CLAIMING', value: (r) => (r.claiming === null ? null : r.claiming ? 'yes' : 'no') },
        { header: 'TIME LEFT', value: (r) => r.timeLeft },
      ],
      rows,
    ),
  );
  return 0;
}

export async function runSlurmStop(ctx: CliContext, ids: string[], f: SlurmFlags & { all?: boolean }): Promise<number> {
  if (f.all && ids.length) throw new UsageError('give job ids or --all, not both');
  if (!f.all && !ids.length) throw new UsageError('give the job ids of the pilots to stop, or --all');
  checkJobIds(ids);
  const s = loadSlurm(ctx, f);
  const pilots = await listPilots(s.slurm.job_name);
  const ours = new Set(pilots.map((p) => p.jobId));
  const foreign = ids.filter((id) => !ours.has(id));
  if (foreign.length) throw new UsageError(`not a pilot of yours (job name ${s.slurm.job_name}): ${foreign.join(', ')}`);
  const targets = f.all ? [...ours] : ids;
  if (!targets.length) {
    ctx.io.out('no pilots to stop');
    return 0;
  }
  await scancel(targets);
  ctx.io.out(`stopping ${targets.join(', ')}: running jobs are handed back to the queue`);
  return 0;
}

/**
 * `pdr slurm scale`: every SCALE_INTERVAL_MS, compares the job consumer's backlog (pending + in flight)
 * with the slots of our pilots (queued or running and still claiming) and of other runners, and submits
 * the missing pilots — at most once per cool-down, never above --max. Runs until SIGINT/SIGTERM.
 */
export async function runSlurmScale(ctx: CliContext, f: SlurmFlags & { once?: boolean }): Promise<number> {
  const s = loadSlurm(ctx, f);
  const c = s.slurm;
  const script = scriptFor(ctx, s);
  const cooldownMs = c.scale_cooldown_seconds * 1000;
  ctx.io.out(
    noticeLine(
      `scaling pilots ${c.min_pilots}..${c.max_pilots} (${c.cpus_per_task} slot(s) each, cool-down ${c.scale_cooldown_seconds} s, idle exit ${c.idle_exit_seconds} s) on NATS ${maskUrl(s.nats.url)}, namespace ${namespaceOf(ctx.env)}`,
    ),
  );
  let stop = false;
  let wake: (() => void) | null = null;
  const onSignal = () => {
    stop = true;
    wake?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let lastSubmit = 0;
  let lastLine = '';
  try {
    await withSession(
      ctx,
      async (session) => {
        const m = messaging();
        const jsm = await session.nc.jetstreamManager();
        const n = names(session.ns);
        while (!stop) {
          let pending = 0;
          let inFlight = 0;
          try {
            const info = await jsm.consumers.info(n.jobStream, n.jobConsumer);
            pending = info.num_pending;
            inFlight = info.num_ack_pending;
          } catch (err) {
            if (!/not found/i.test((err as Error).message)) throw err;
          }
          const [pilots, runners] = await Promise.all([listPilots(c.job_name), m.collectHealth(session.nc, session.ns)]);
          const d = decideScale({
            pilots,
            pending,
            inFlight,
            runners,
            slotsPerPilot: c.cpus_per_task,
            min: c.min_pilots,
            max: c.max_pilots,
            // a pilot stops claiming at the latest signal_seconds before its end; two rounds earlier its
            // replacement is queued, so one round always sees it coming however soon it then leaves
            replaceAheadSeconds: c.signal_seconds + (2 * SCALE_INTERVAL_MS) / 1000,
          });
          const line = `backlog ${pending} waiting + ${inFlight} in flight; pilots ${pilots.length} (${d.lasting} lasting${d.ending.length ? `, ending ${d.ending.join(' ')}` : ''}); want ${d.desired}`;
          if (line !== lastLine) ctx.io.out(line);
          lastLine = line;
          if (d.submit > 0) {
            const wait = lastSubmit + cooldownMs - Date.now();
            if (wait <= 0) {
              await submitPilots(ctx, script, d.submit, c.cpus_per_task);
              lastSubmit = Date.now();
            } else if (!line.endsWith('(cool-down)')) {
              ctx.io.out(`${d.submit} more pilot(s) due after the cool-down (${Math.ceil(wait / 1000)} s)`);
            }
          }
          // a signal during the round: leave now, not after another sleep
          if (f.once || stop) break;
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, SCALE_INTERVAL_MS).unref();
          });
        }
      },
      { reconnect: true, configFile: s.file },
    );
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return 0;
}

function pilotOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML config file with a slurm: section (and nats:)')
    .option('--job-name <name>', 'Slurm job name of the pilots (slurm.job_name, default pdr-runner)')
    .option('--partition <p>', 'sbatch --partition')
    .option('--account <a>', 'sbatch --account')
    .option('--qos <q>', 'sbatch --qos')
    .option('--time <t>', 'sbatch --time (e.g. 1-00:00:00)')
    .option('--cpus-per-task <n>', "sbatch --cpus-per-task = the runner's slots")
    .option('--mem <m>', 'sbatch --mem (e.g. 16G)')
    .option('--work-dir <dir>', 'job directories on the node (default $SLURM_TMPDIR, else $TMPDIR, else /tmp)')
    .option('--signal-seconds <s>', 'Slurm warns the pilot this long before its time limit (--signal=B:USR1@s); it stops claiming')
    .option('--idle-exit <s>', 'a pilot exits after this long with nothing to pull');
}

export function registerSlurm(program: Command, ctx: () => CliContext): void {
  const slurm = program.command('slurm').description('runners as Slurm pilot jobs: submit, status, stop, scale with the queue');
  pilotOptions(slurm.command('submit').description('submit runner pilot jobs with sbatch'))
    .option('--runners <n>', 'how many pilots', positiveInt)
    .option('--print', 'print the batch script, submit nothing')
    .action(async (o: SlurmFlags & { runners?: number; print?: boolean }) => {
      await runSlurmSubmit(ctx(), o);
    });
  slurm
    .command('status')
    .description('our pilots: Slurm state, node, slots, jobs running, time left')
    .option('--config <file>', 'YAML config file with a slurm: section')
    .option('--job-name <name>', 'Slurm job name of the pilots')
    .option('--json', 'print JSON')
    .action(async (o: SlurmFlags & { json?: boolean }) => {
      await runSlurmStatus(ctx(), o);
    });
  slurm
    .command('stop')
    .description('scancel pilots; their runners hand running jobs back to the queue')
    .argument('[ids...]', 'Slurm job ids of pilots')
    .option('--all', 'every pilot of yours')
    .option('--config <file>', 'YAML config file with a slurm: section')
    .option('--job-name <name>', 'Slurm job name of the pilots')
    .action(async (ids: string[], o: SlurmFlags & { all?: boolean }) => {
      await runSlurmStop(ctx(), ids, o);
    });
  pilotOptions(slurm.command('scale').description('keep the number of pilots matched to the job queue (runs until Ctrl-C)'))
    .option('--min <n>', 'pilots kept even with an empty queue (slurm.min_pilots, default 0)', nonNegativeInt)
    .option('--max <n>', 'most pilots queued + running (slurm.max_pilots, default 10)', positiveInt)
    .option('--cooldown <s>', 'at most one submission per this many seconds (slurm.scale_cooldown_seconds, default 60)')
    .option('--once', 'one round, then exit')
    .action(async (o: SlurmFlags & { once?: boolean }) => {
      await runSlurmScale(ctx(), o);
    });
}

export type { Pilot };
