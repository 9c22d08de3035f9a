import { cpus } from 'os';
import { natsSettingsFromEnv } from '@pdr/config';
import { createLogger } from '@pdr/logging';
import { parseServiceArgs, stopWhenSupervisorGone, takeMetricsArgs } from '@pdr/messaging/client';
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
export function parseRunnerArgs(argv: string[], env: NodeJS.ProcessEnv): Args {
  const { values } = parseServiceArgs(
    {
      args: argv,
      options: {
        concurrency: { type: 'string' },
        'work-dir': { type: 'string' },
        config: { type: 'string' },
        'idle-exit': { type: 'string' },
        'shutdown-grace': { type: 'string' },
      },
      allowPositionals: false,
    },
    USAGE,
  );
  const flagOrEnv = values.concurrency !== undefined ? positiveInt(values.concurrency, '--concurrency') : undefined;
  const concurrency = flagOrEnv ?? (env.PDR_RUNNER_CONCURRENCY ? positiveInt(env.PDR_RUNNER_CONCURRENCY, 'PDR_RUNNER_CONCURRENCY') : Math.max(1, cpus().length));
  return {
    concurrency,
    workRoot: values['work-dir'] || env.PDR_WORK_DIR || undefined,
    configFile: values.config,
    idleExitMs: values['idle-exit'] !== undefined ? positiveInt(values['idle-exit'], '--idle-exit') * 1000 : undefined,
    graceMs: values['shutdown-grace'] !== undefined ? nonNegativeInt(values['shutdown-grace'], '--shutdown-grace') * 1000 : RUNNER_LIMITS.SHUTDOWN_GRACE_MS,
  };
}

const USAGE = 'known: --concurrency N, --work-dir DIR, --config FILE, --idle-exit SECONDS, --shutdown-grace SECONDS, --metrics-port N';

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
    args = parseRunnerArgs(taken.rest, process.env);
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
