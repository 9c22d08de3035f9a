import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { Command, InvalidArgumentError } from 'commander';
import { CliContext, namespaceOf } from '../context';
import { CliError, EXIT, exitWith } from '../errors';

export interface WebCommandOptions {
  port?: number;
  host?: string;
}

export function portNumber(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number 0..65535.');
  return Number(value);
}

/** `<apps dir>/web/dist/main.js` (PDR_APPS_DIR as for `pdr up`); a clear error when it is not built. */
export function webEntry(ctx: CliContext): string {
  const appsDir = ctx.env.PDR_APPS_DIR ? path.resolve(ctx.cwd, ctx.env.PDR_APPS_DIR) : path.join(ctx.repoRoot, 'apps');
  const p = path.join(appsDir, 'web', 'dist', 'main.js');
  if (!fs.existsSync(p)) throw new CliError(`${p} is missing: run npm run build (in the repository root)`, EXIT.SERVICE_MISSING);
  return p;
}

/** The web server's arguments for the given options. */
export function webArgs(o: WebCommandOptions): string[] {
  return ['--port', String(o.port ?? 8080), '--host', o.host ?? '127.0.0.1'];
}

/**
 * `pdr web`: the dashboard server (apps/web) in the foreground; it prints its address, Ctrl-C stops it.
 * Exit code as the server's: 2 for a bad flag or a non-loopback host without PDR_WEB_TOKEN, 3 without NATS.
 */
export async function runWeb(ctx: CliContext, o: WebCommandOptions): Promise<number> {
  const entry = webEntry(ctx);
  const ns = namespaceOf(ctx.env);
  const child = spawn(process.execPath, [entry, ...webArgs(o)], { cwd: ctx.cwd, env: { ...ctx.env, PDR_NATS_PREFIX: ns, PDR_LOG_FORMAT: ctx.env.PDR_LOG_FORMAT || 'text' }, stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? EXIT.OK : EXIT.FAILED)));
      child.on('error', () => resolve(EXIT.FAILED));
    });
  } finally {
    process.removeListener('SIGINT', forward);
    process.removeListener('SIGTERM', forward);
  }
}

export function registerWeb(program: Command, ctx: () => CliContext): void {
  program
    .command('web')
    .description('serve the dashboard (grids, parameter-space maps, live progress); loopback only unless PDR_WEB_TOKEN is set')
    .option('--port <n>', 'TCP port (default 8080; 0 picks a free one)', portNumber)
    .option('--host <address>', 'address to bind (default 127.0.0.1); any other needs PDR_WEB_TOKEN, which the page asks for once')
    .action(async (opts: WebCommandOptions) => {
      exitWith(await runWeb(ctx(), opts));
    });
}
