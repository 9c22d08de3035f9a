import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { HealthPingReply, SERVICES } from '@pdr/contracts';
import { maskUrl } from '@pdr/logging';
import { config as configLib, messaging } from '../lazy';
import { CliContext, namespaceOf } from '../context';
import { CliError, EXIT, exitWith, UsageError } from '../errors';
import { noticeLine, warningLine } from '../output/io';
import { ManagedChild, Supervisor } from '../up/supervisor';
import { positiveInt, positiveSeconds } from './options';
import { portNumber, webArgs, webEntry } from './web';

export interface UpOptions {
  config?: string;
  runners?: number;
  concurrency?: number;
  workDir?: string;
  startupTimeout?: number;
  grace?: number;
  web?: boolean;
  webPort?: number;
  webHost?: string;
}


/**
 * Path of a service's built entry point `<apps dir>/<service>/dist/main.js`; the apps dir is the
 * repository's apps/ unless PDR_APPS_DIR says otherwise. A clear error when it is not built.
 */
export function serviceEntry(appsDir: string, service: (typeof SERVICES)[number]): string {
  const p = path.join(appsDir, service, 'dist', 'main.js');
  if (!fs.existsSync(p)) throw new CliError(`${p} is missing: run npm run build (in the repository root)`, EXIT.SERVICE_MISSING);
  return p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * `pdr up`: state, planner and N runners as child processes of this one, their log lines prefixed,
 * "stack is up" once `pdr health` sees all of them; Ctrl-C / SIGTERM stops them (runners first, so they
 * can hand their jobs back to state), SIGKILL after the grace period. A child that dies stops the rest
 * and the exit status is 1.
 */
export async function runUp(ctx: CliContext, o: UpOptions): Promise<number> {
  const runners = o.runners ?? 1;
  const concurrency = o.concurrency ?? 1;
  const startupMs = (o.startupTimeout ?? 60) * 1000;
  const graceMs = (o.grace ?? 60) * 1000;
  const appsDir = ctx.env.PDR_APPS_DIR ? path.resolve(ctx.cwd, ctx.env.PDR_APPS_DIR) : path.join(ctx.repoRoot, 'apps');
  const entries = { state: serviceEntry(appsDir, 'state'), planner: serviceEntry(appsDir, 'planner'), runner: serviceEntry(appsDir, 'runner') };
  const webScript = o.web ? webEntry(ctx) : null;

  let configFile: string | undefined;
  /** Storage secrets of the config for the runners (they are never part of a grid request). */
  const storageSecrets: NodeJS.ProcessEnv = {};
  if (o.config !== undefined) {
    configFile = path.resolve(ctx.cwd, o.config);
    // a broken file is reported here, in one line, before anything starts
    const { warnings, config } = configLib().loadConfig({ file: configFile, env: ctx.env, cwd: ctx.cwd });
    for (const w of warnings) ctx.io.err(warningLine(w));
    if (config.storage.password) storageSecrets.PDR_STORAGE_PASSWORD = config.storage.password;
    if (config.storage.key_passphrase) storageSecrets.PDR_STORAGE_KEY_PASSPHRASE = config.storage.key_passphrase;
  }
  let workDir: string | undefined;
  if (o.workDir !== undefined) {
    workDir = path.resolve(ctx.cwd, o.workDir);
    try {
      fs.mkdirSync(workDir, { recursive: true });
    } catch (err) {
      throw new UsageError(`--work-dir ${workDir}: cannot create it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  const ns = namespaceOf(ctx.env);
  const { collectHealth, connectNats } = messaging();
  const natsSettings = configLib().natsSettingsFromEnv(ctx.env, { file: configFile, cwd: ctx.cwd });
  const url = natsSettings.url;
  const nc = await connectNats({ name: 'pdr-up', reconnect: true, settings: natsSettings });
  const sup = new Supervisor((line) => ctx.io.out(line));
  let stopping = false;
  let signals = 0;
  let failure: string | null = null;
  let wakeMain: (() => void) | null = null;
  const stopped = new Promise<void>((resolve) => (wakeMain = resolve));
  sup.onExit((c, code, signal) => {
    if (stopping || signals > 0) {
      ctx.io.out(noticeLine(`${c.spec.name} stopped (${signal ?? `exit ${code}`})`));
      return;
    }
    failure = `${c.spec.name} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); stopping the others`;
    ctx.io.err(`pdr: error: ${failure}`);
    wakeMain?.();
  });
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      ctx.io.out(noticeLine(`${sig}: stopping the stack (again to kill at once)`));
      wakeMain?.();
    } else {
      sup.killAll();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const childEnv: NodeJS.ProcessEnv = { ...ctx.env, PDR_LOG_FORMAT: ctx.env.PDR_LOG_FORMAT || 'text', PDR_NATS_URL: url, PDR_NATS_PREFIX: ns };
  const before = await collectHealth(nc, ns);
  if (before.length > 0) {
    ctx.io.err(warningLine(`already answering in namespace "${ns}": ${before.map((b) => `${b.service} ${b.instanceId}`).join(', ')}; starting more instances`));
  }
  const known = new Set(before.map((b) => b.instanceId));
  const fresh = (hs: HealthPingReply[], service: string) => hs.filter((h) => h.service === service && !known.has(h.instanceId)).length;

  /** Waits until `want` new instances of each service answer; false on failure/stop/timeout. */
  const waitFor = async (want: Partial<Record<(typeof SERVICES)[number], number>>): Promise<boolean> => {
    const deadline = Date.now() + startupMs;
    while (!failure && signals === 0) {
      const hs = await collectHealth(nc, ns, 500);
      if (Object.entries(want).every(([s, n]) => fresh(hs, s) >= (n as number))) return true;
      if (Date.now() > deadline) {
        const missing = Object.entries(want)
          .filter(([s, n]) => fresh(hs, s) < (n as number))
          .map(([s, n]) => `${s} (${fresh(hs, s)}/${n})`);
        failure = `not healthy after ${Math.round(startupMs / 1000)} s: ${missing.join(', ')}; see the log lines above`;
        ctx.io.err(`pdr: error: ${failure}`);
        return false;
      }
      await sleep(250);
    }
    return false;
  };

  const tiers: { web: ManagedChild[]; runners: ManagedChild[]; planner: ManagedChild[]; state: ManagedChild[] } = { web: [], runners: [], planner: [], state: [] };
  try {
    tiers.state.push(sup.start({ name: 'state', script: entries.state, args: configFile ? ['--config', configFile] : [], env: childEnv, cwd: ctx.cwd }));
    if (await waitFor({ state: 1 })) {
      tiers.planner.push(sup.start({ name: 'planner', script: entries.planner, args: [], env: childEnv, cwd: ctx.cwd }));
      const runnerEnv = { ...childEnv, ...storageSecrets, ...(workDir ? { PDR_WORK_DIR: workDir } : {}) };
      for (let i = 1; i <= runners; i++) {
        tiers.runners.push(sup.start({ name: `runner-${i}`, script: entries.runner, args: ['--concurrency', String(concurrency)], env: runnerEnv, cwd: ctx.cwd }));
      }
      if (await waitFor({ state: 1, planner: 1, runner: runners })) {
        ctx.io.out(
          noticeLine(
            `stack is up: state, planner, ${runners} runner(s) × ${concurrency} slot(s) (NATS ${maskUrl(url)}, namespace ${ns}${workDir ? `, work dir ${workDir}` : ''}); Ctrl-C stops it`,
          ),
        );
        if (webScript) tiers.web.push(sup.start({ name: 'web', script: webScript, args: webArgs({ port: o.webPort, host: o.webHost }), env: childEnv, cwd: ctx.cwd }));
        if (!failure && signals === 0) await stopped;
      }
    }
  } finally {
    stopping = true;
    await sup.stop(tiers.web, graceMs);
    // runners first: they hand running jobs back to state, which must still be there
    await sup.stop(tiers.runners, graceMs);
    await sup.stop(tiers.planner, graceMs);
    await sup.stop(tiers.state, graceMs);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGHUP', onSignal);
    sup.dispose();
    await nc.close().catch(() => undefined);
  }
  if (failure) return EXIT.FAILED;
  ctx.io.out(noticeLine('stack stopped'));
  return EXIT.OK;
}

export function registerUp(program: Command, ctx: () => CliContext): void {
  program
    .command('up')
    .description('start state, planner and N runners here, prefix their logs, stop them on Ctrl-C')
    .option('--config <file>', 'config file; its database section is given to the state service (with PDR_DB_*)')
    .option('--runners <n>', 'runner processes (default 1)', positiveInt)
    .option('--concurrency <n>', 'job slots per runner (default 1)', positiveInt)
    .option('--work-dir <dir>', 'where runners create job directories (PDR_WORK_DIR)')
    .option('--startup-timeout <sec>', 'how long to wait for every service to answer (default 60)', positiveSeconds)
    .option('--web', 'also serve the dashboard (pdr web) once the stack is up')
    .option('--web-port <n>', 'dashboard port with --web (default 8080)', portNumber)
    .option('--web-host <address>', 'dashboard address with --web (default 127.0.0.1; any other needs PDR_WEB_TOKEN)')
    .option('--grace <sec>', 'after SIGTERM, how long a service may take before SIGKILL (default 60; runners give running jobs 30)', positiveSeconds)
    .action(async (opts: UpOptions) => {
      exitWith(await runUp(ctx(), opts));
    });
}
