import { cpus } from 'os';
import { natsSettingsFromEnv } from '@pdr/config';
import { createLogger } from '@pdr/logging';
import { stopWhenSupervisorGone, takeMetricsArgs } from '@pdr/messaging';
import { startRunner } from './start-runner';
import { RUNNER_LIMITS } from './consume/limits';

export { startRunner } from './start-runner';

interface Args {
  concurrency: number;
  workRoot?: string;
  configFile?: string;
  idleExitMs?: number;
  graceMs: number;
}

/**
 * `node apps/runner/dist/main.js [--concurrency N] [--work-dir DIR] [--config FILE] [--idle-exit S]
 * [--shutdown-grace S]`; env PDR_RUNNER_CONCURRENCY, PDR_WORK_DIR, PDR_NATS_*. `--config`: the file's
 * `nats` section (below PDR_NATS_*). `--idle-exit`: stop after S seconds with nothing to pull (pilot
 * jobs). `--shutdown-grace`: how long running jobs may finish after SIGTERM before they are handed
 * back (0 for a batch system that kills the allocation soon after).
 */
function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Args {
  let concurrency: number | undefined;
  let configFile: string | undefined;
  let idleExitMs: number | undefined;
  let graceMs: number = RUNNER_LIMITS.SHUTDOWN_GRACE_MS;
  let workRoot = env.PDR_WORK_DIR || undefined;
  const args = [...argv];
  while (args.length) {
    const a = args.shift()!;
    const [flag, inline] = a.split('=', 2);
    const value = () => {
      const v = inline ?? args.shift();
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--concurrency') concurrency = positiveInt(value(), '--concurrency');
    else if (flag === '--work-dir') workRoot = value();
    else if (flag === '--config') configFile = value();
    else if (flag === '--idle-exit') idleExitMs = positiveInt(value(), '--idle-exit') * 1000;
    else if (flag === '--shutdown-grace') graceMs = nonNegativeInt(value(), '--shutdown-grace') * 1000;
    else throw new Error(`unknown option ${a} (known: --concurrency N, --work-dir DIR, --config FILE, --idle-exit SECONDS, --shutdown-grace SECONDS, --metrics-port N)`);
  }
  if (concurrency === undefined && env.PDR_RUNNER_CONCURRENCY) concurrency = positiveInt(env.PDR_RUNNER_CONCURRENCY, 'PDR_RUNNER_CONCURRENCY');
  return { concurrency: concurrency ?? Math.max(1, cpus().length), workRoot, configFile, idleExitMs, graceMs };
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

function nonNegativeInt(v: string, name: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number of seconds, got "${v}"`);
  return Number(v);
}

/** The batch shell of a pilot forwards the signal Slurm also sent this process: one shutdown, not two. */
const DUPLICATE_SIGNAL_MS = 5_000;

if (require.main === module) {
  const logger = createLogger('runner');
  stopWhenSupervisorGone(); // `pdr up` gone (even SIGKILLed): stop as on SIGTERM
  let args: Args;
  let natsSettings;
  let metrics;
  try {
    const taken = takeMetricsArgs(process.argv.slice(2), process.env);
    metrics = taken.metrics;
    args = parseArgs(taken.rest, process.env);
    natsSettings = natsSettingsFromEnv(process.env, { file: args.configFile });
  } catch (err) {
    process.stderr.write(`runner: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const { graceMs, configFile: _c, ...opts } = args;
  startRunner({ ...opts, natsSettings, metrics, logger }).then(
    (r) => {
      let closingAt = 0;
      const stop = (sig: string, grace: number) => {
        if (closingAt) {
          if (Date.now() - closingAt < DUPLICATE_SIGNAL_MS) return;
          process.exit(1);
        }
        closingAt = Date.now();
        logger.info({ signal: sig, graceMs: grace }, 'stopping: no new jobs, running ones get a grace period, then are handed back');
        r.close(grace).then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGTERM', () => stop('SIGTERM', graceMs));
      process.on('SIGINT', () => stop('SIGINT', graceMs));
      // Slurm's warning before the time limit (--signal=B:USR1@<s>, forwarded by the pilot script)
      process.on('SIGUSR1', () => r.drain());
      void r.done.then((why) => {
        logger.info({ reason: why }, 'runner stops by itself');
        stop(why, 0);
      });
    },
    (err) => {
      logger.fatal({ err: (err as Error).message }, 'runner failed to start');
      process.exit(1);
    },
  );
}
