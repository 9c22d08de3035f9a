import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type BetterSqlite3 from 'better-sqlite3';
import { LEGACY_TABLES, LegacyImportReply, LIMITS, MAX_IMPORT_ROWS_PER_BATCH, safeName } from '@pdr/contracts';
import { CliContext, withSession } from '../context';
import { EXIT, UsageError } from '../errors';

export interface DbImportOptions {
  from: string;
  modelName?: string;
}

type Cell = string | number | null;

/** pdr_run's jobs best status first: its duplicates (a `skipped` copy per re-run) merge into the finished job. */
const JOB_ORDER = "CASE status WHEN 'finished' THEN 0 WHEN 'skipped' THEN 1 WHEN 'problem' THEN 2 WHEN 'failed' THEN 3 WHEN 'cancelled' THEN 4 ELSE 5 END, id";

function openSqlite(file: string, shown: string): BetterSqlite3.Database {
  // loaded on use: the native module is needed by this command only
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  let db: BetterSqlite3.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.prepare('SELECT name FROM sqlite_master LIMIT 1').all();
  } catch (err) {
    throw new UsageError(`--from ${shown}: not a readable SQLite database (${(err as Error).message})`);
  }
  return db;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function cellsOf(table: string, row: Record<string, unknown>): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'bigint') out[k] = Number(v);
    else throw new UsageError(`${table} row id ${String(row.id)}: column ${k} holds a ${Buffer.isBuffer(v) ? 'BLOB' : typeof v}, which pdr_run never writes`);
  }
  return out;
}

/**
 * `pdr db import --from pdr.db [--model-name NAME]`: reads a pdr_run SQLite database (read-only) and
 * streams its rows, table by table in reference order and in batches, to the state service
 * (state.legacy.import): state is the only writer of the database. The file's sha256 identifies the
 * import, so running it again changes nothing.
 */
export async function runDbImport(ctx: CliContext, o: DbImportOptions): Promise<number> {
  const file = path.resolve(ctx.cwd, o.from);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UsageError(`--from ${o.from}: no such file`);
  if (o.modelName !== undefined) {
    const ok = safeName.safeParse(o.modelName);
    if (!ok.success) throw new UsageError(`--model-name ${JSON.stringify(o.modelName)}: ${ok.error.issues[0].message}`);
  }
  const db = openSqlite(file, o.from);
  try {
    const present = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const missing = ['model_names', 'kosmatau_parameters', 'pdr_model_jobs'].filter((t) => !present.has(t));
    if (missing.length) throw new UsageError(`--from ${o.from}: not a pdr_run database (no table ${missing.join(', ')})`);
    const fileSha = await sha256File(file);
    // the import's identity: the file, and the model name it goes under (another name is another import)
    const source = o.modelName === undefined ? fileSha : createHash('sha256').update(`${fileSha}\nmodel-name=${o.modelName}`).digest('hex');
    ctx.io.out(`importing ${file} (sha256 ${fileSha.slice(0, 12)}…)${o.modelName ? ` as model ${o.modelName}` : ''}`);
    return await withSession(ctx, async ({ client }) => {
      const total: LegacyImportReply = { inserted: 0, merged: 0, skipped: 0, orphans: [] };
      for (const table of LEGACY_TABLES) {
        if (!present.has(table)) continue;
        const rows = (db.prepare(`SELECT * FROM "${table}" ORDER BY ${table === 'pdr_model_jobs' ? JOB_ORDER : 'id'}`).all() as Record<string, unknown>[]).map((r) =>
          cellsOf(table, r),
        );
        let names: Map<number, string[]> | undefined;
        if (table === 'kosmatau_parameters') {
          names = new Map();
          for (const j of db.prepare('SELECT kosmatau_parameters_id AS p, model_job_name AS n FROM pdr_model_jobs ORDER BY id').all() as { p: number | null; n: string }[]) {
            if (j.p !== null) names.set(j.p, [...(names.get(j.p) ?? []), j.n]);
          }
        }
        const sum: LegacyImportReply = { inserted: 0, merged: 0, skipped: 0, orphans: [] };
        for (let i = 0; i < rows.length; i += MAX_IMPORT_ROWS_PER_BATCH) {
          const batch = rows.slice(i, i + MAX_IMPORT_ROWS_PER_BATCH);
          const reply = await client.request(
            'legacyImport',
            { source, table, modelName: o.modelName, rows: batch, jobNames: names ? batch.map((r) => names!.get(r.id as number) ?? []) : undefined },
            { timeoutMs: LIMITS.BATCH_REQUEST_TIMEOUT_MS },
          );
          sum.inserted += reply.inserted;
          sum.merged += reply.merged;
          sum.skipped += reply.skipped;
          sum.orphans.push(...reply.orphans);
        }
        total.inserted += sum.inserted;
        total.merged += sum.merged;
        total.skipped += sum.skipped;
        ctx.io.out(`  ${table}: ${rows.length} row(s): ${sum.inserted} inserted, ${sum.merged} merged into an existing row, ${sum.skipped} imported before`);
        for (const x of sum.orphans.slice(0, 5)) ctx.io.out(`    row id ${x.id}: ${x.reason}`);
        if (sum.orphans.length > 5) ctx.io.out(`    … ${sum.orphans.length - 5} more rows with references the file does not have`);
      }
      ctx.io.out(`done: ${total.inserted} inserted, ${total.merged} merged (kept in legacy_merges), ${total.skipped} imported before`);
      return EXIT.OK;
    });
  } finally {
    db.close();
  }
}
