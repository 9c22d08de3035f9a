import { cpus } from 'os';
import { natsSettingsFromEnv } from '@pdr/config';
import { createLogger } from '@pdr/logging';
import { startRunner } from './start-runner';
import { RUNNER_LIMITS } from './consume/limits';

export { startRunner } from './start-runner';

/**
 * `node apps/runner/dist/main.js [--concurrency N] [--work-dir DIR] [--config FILE]`; env
 * PDR_RUNNER_CONCURRENCY, PDR_WORK_DIR, PDR_NATS_*. `--config`: the file's `nats` section (below PDR_NATS_*).
 */
function parseArgs(argv: string[], env: NodeJS.ProcessEnv): { concurrency: number; workRoot?: string; configFile?: string } {
  let concurrency: number | undefined;
  let configFile: string | undefined;
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
    else throw new Error(`unknown option ${a} (known: --concurrency N, --work-dir DIR, --config FILE)`);
  }
  if (concurrency === undefined && env.PDR_RUNNER_CONCURRENCY) concurrency = positiveInt(env.PDR_RUNNER_CONCURRENCY, 'PDR_RUNNER_CONCURRENCY');
  return { concurrency: concurrency ?? Math.max(1, cpus().length), workRoot, configFile };
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

if (require.main === module) {
  const logger = createLogger('runner');
  let opts;
  try {
    const { configFile, ...rest } = parseArgs(process.argv.slice(2), process.env);
    opts = { ...rest, natsSettings: natsSettingsFromEnv(process.env, { file: configFile }) };
  } catch (err) {
    process.stderr.write(`runner: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  startRunner({ ...opts, logger }).then(
    (r) => {
      let closing = false;
      const stop = (sig: string) => {
        if (closing) process.exit(1);
        closing = true;
        logger.info({ signal: sig, graceMs: RUNNER_LIMITS.SHUTDOWN_GRACE_MS }, 'stopping: no new jobs, running ones get a grace period');
        r.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
    (err) => {
      logger.fatal({ err: (err as Error).message }, 'runner failed to start');
      process.exit(1);
    },
  );
}
