import { spawn } from 'child_process';
import * as path from 'path';
import { Command } from 'commander';
import { CliContext } from '../context';
import { EXIT, exitWith, UsageError } from '../errors';
import { serviceEntry } from './up';
import { DbImportOptions, runDbImport } from './db-import';

export interface DbUpgradeOptions {
  dryRun?: boolean;
  config?: string;
}

/** Forwards a child's output line by line to the command's io (masked there). */
function forwardLines(stream: NodeJS.ReadableStream, write: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    stream.on('data', (d) => {
      pending += String(d);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) write(l);
    });
    stream.on('end', () => {
      if (pending) write(pending);
      resolve();
    });
  });
}

/**
 * `pdr db upgrade [--dry-run]`: runs the state binary's admin mode (`node apps/state/dist/main.js
 * upgrade`): the state service stays the only program with database code and credentials in use
 * (PDR_DB_*, or the config file's `database` section); this command only starts it and passes its
 * output and exit code on (0 done, 2 refused: not a pdr_run database, or in use; 1 failed).
 */
export async function runDbUpgrade(ctx: CliContext, o: DbUpgradeOptions): Promise<number> {
  const appsDir = ctx.env.PDR_APPS_DIR ? path.resolve(ctx.cwd, ctx.env.PDR_APPS_DIR) : path.join(ctx.repoRoot, 'apps');
  const main = serviceEntry(appsDir, 'state');
  const args = [main, 'upgrade', ...(o.dryRun ? ['--dry-run'] : []), ...(o.config ? ['--config', path.resolve(ctx.cwd, o.config)] : [])];
  const child = spawn(process.execPath, args, { env: ctx.env, cwd: ctx.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = Promise.all([forwardLines(child.stdout, (l) => ctx.io.out(l)), forwardLines(child.stderr, (l) => ctx.io.err(l))]);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 + 9 : EXIT.FAILED)));
  });
  await done;
  return code;
}

export function registerDb(program: Command, ctx: () => CliContext): void {
  const db = program.command('db').description('adopt a database of pdr_run: upgrade it in place (MySQL/MariaDB) or import it (SQLite)');
  db.command('upgrade')
    .description("bring a pdr_run MySQL/MariaDB database to this project's schema in place, keeping every row (stop pdr_run and the state service first)")
    .option('--dry-run', 'show what it would change (tables, column types, duplicates and how they merge) and change nothing')
    .option('--config <file>', "a pdr_run config file whose `database` section names the database (PDR_DB_* override it)")
    .action(async (opts: DbUpgradeOptions, cmd: Command) => {
      if (cmd.args.length) throw new UsageError(`pdr db upgrade takes no arguments (got ${cmd.args.join(' ')})`);
      exitWith(await runDbUpgrade(ctx(), opts));
    });
  db.command('import')
    .description("copy a pdr_run SQLite database's rows into this project's database through the state service (again: nothing changes)")
    .requiredOption('--from <file>', "pdr_run's SQLite database file (read only)")
    .option('--model-name <name>', 'import every model of the file under this model name')
    .action(async (opts: DbImportOptions) => {
      exitWith(await runDbImport(ctx(), opts));
    });
}
