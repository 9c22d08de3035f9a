/**
 * Harness of the pdr_run database tests (issue 14): the dumps pdr_run itself wrote, read in place from
 * ../shared/compat/pdr_run-db (skipped, saying so, when absent), loaded into a scratch database of the
 * real MariaDB; the upgrade run as the real binary (`node apps/state/dist/main.js upgrade`); snapshots
 * of every row and of the schema for comparisons.
 */
import { spawn } from 'child_process';
import { createReadStream, existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { all, createOrm, databaseEnv, DatabaseSettings, Em, ensureDatabase } from '@pdr/persistence';
import { describeOrSkip } from '../support/describe-or-skip';
import { REPO } from '../support/processes';

export const LEGACY_DIR = join(REPO, '..', 'shared', 'compat', 'pdr_run-db');
export const MARIADB_DUMP = join(LEGACY_DIR, 'legacy-mariadb.sql');
export const SQLITE_DUMP = join(LEGACY_DIR, 'legacy-sqlite.sql');
export const HAVE_LEGACY = existsSync(MARIADB_DUMP) && existsSync(SQLITE_DUMP);
export const STATE_MAIN = join(REPO, 'apps/state/dist/main.js');

/** `describe`, or `describe.skip` with a visible message when the pdr_run dumps are absent. */
export function describeWithLegacy(name: string, fn: () => void): void {
  describeOrSkip(name, HAVE_LEGACY ? null : `pdr_run database dumps not found at ${LEGACY_DIR}`, fn);
}

function mariadbClient(): string {
  for (const c of ['/usr/bin/mariadb', '/usr/bin/mysql', '/usr/local/bin/mariadb', '/usr/local/bin/mysql']) if (existsSync(c)) return c;
  throw new Error('the mariadb (or mysql) command-line client is needed to load the pdr_run dump');
}

/** Creates the database and loads pdr_run's mariadb-dump into it with the mariadb client (as a user would). */
export async function loadMariaDump(db: DatabaseSettings, file = MARIADB_DUMP): Promise<void> {
  await ensureDatabase(db);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(mariadbClient(), ['-h', db.host, '-P', String(db.port), '-u', db.user, db.database], {
      env: { ...process.env, MYSQL_PWD: db.password },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    createReadStream(file).pipe(child.stdin);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`loading ${file} failed (${code}): ${err}`))));
  });
}

export async function withEm<T>(db: DatabaseSettings, fn: (em: Em) => Promise<T>): Promise<T> {
  const orm = await createOrm(db, { poolMax: 1 });
  try {
    return await fn(orm.em.fork() as Em);
  } finally {
    await orm.close(true);
  }
}

/** Columns that differ between two equal upgrades by construction (ids of the merge log, times of the run). */
const VOLATILE: Record<string, string[]> = {
  legacy_merges: ['id', 'merged_at'],
  mikro_orm_migrations: ['executed_at'],
  legacy_import_rows: ['imported_at'],
  // each database makes its own installation id (UUID()) when the migration creating the table runs
  installation: ['uuid', 'created_at'],
};

/** Every row of every table (ordered), for equality of two databases' contents. */
export async function snapshotRows(db: DatabaseSettings): Promise<Record<string, unknown[]>> {
  return withEm(db, async (em) => {
    const tables = (await all<{ t: string }>(em, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME')).map((r) => r.t);
    const out: Record<string, unknown[]> = {};
    for (const t of tables) {
      const rows = await all<Record<string, unknown>>(em, `SELECT * FROM \`${t}\``);
      const cleaned = rows.map((r) => {
        const c = { ...r };
        for (const v of VOLATILE[t] ?? []) delete c[v];
        return JSON.parse(JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
      });
      cleaned.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      out[t] = cleaned;
    }
    return out;
  });
}

/** Columns, indexes, foreign keys and triggers of every table (names, types, nullability, defaults, key columns, trigger bodies). */
export async function snapshotSchema(db: DatabaseSettings): Promise<Record<string, unknown>> {
  return withEm(db, async (em) => {
    const columns = await all(
      em,
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra,
              GENERATION_EXPRESSION AS gen, COLLATION_NAME AS coll
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, COLUMN_NAME`,
    );
    const indexes = await all(
      em,
      `SELECT TABLE_NAME AS t, INDEX_NAME AS i, NON_UNIQUE AS nu, SEQ_IN_INDEX AS seq, COLUMN_NAME AS c
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    );
    const foreign = await all(
      em,
      `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n, REFERENCED_TABLE_NAME AS ref, DELETE_RULE AS del, UPDATE_RULE AS upd
         FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME`,
    );
    const tables = await all(em, 'SELECT TABLE_NAME AS t, TABLE_COLLATION AS coll, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME');
    const triggers = await all(
      em,
      `SELECT TRIGGER_NAME AS n, EVENT_OBJECT_TABLE AS t, ACTION_TIMING AS timing, EVENT_MANIPULATION AS event, ACTION_STATEMENT AS body
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME`,
    );
    return { tables, columns, indexes, foreign, triggers };
  });
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `node apps/state/dist/main.js upgrade …` on `db`. `killAt(line)`: SIGKILL the process as soon as a
 * line of its output satisfies it (a kill half-way, at whatever the upgrade is doing then).
 */
export function runUpgrade(db: DatabaseSettings, args: string[] = [], killAt?: (line: string) => boolean): Promise<ProcResult> {
  return runNode(STATE_MAIN, ['upgrade', ...args], { ...databaseEnv(db) }, killAt);
}

/** `pdr db upgrade …` (the CLI, which runs the state binary's upgrade mode) on `db`. */
export function runPdrDbUpgrade(db: DatabaseSettings, args: string[] = []): Promise<ProcResult> {
  return runNode(join(REPO, 'apps/cli/dist/main.js'), ['db', 'upgrade', ...args], { ...databaseEnv(db) });
}

/** Builds pdr_run's SQLite database from its text dump (sqlite3 .dump) with better-sqlite3, as `sqlite3 x.db < dump` would. */
export function buildSqlite(file: string, dump = SQLITE_DUMP): void {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(file);
  try {
    db.exec(readFileSync(dump, 'utf8'));
  } finally {
    db.close();
  }
}

/** `pdr …` (the built CLI) with the given environment. */
export function runPdr(args: string[], env: Record<string, string>): Promise<ProcResult> {
  return runNode(join(REPO, 'apps/cli/dist/main.js'), args, env);
}

export function runNode(main: string, args: string[], env: Record<string, string>, killAt?: (line: string) => boolean): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, PDR_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
      pending += String(d);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      if (killAt && lines.some(killAt)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
