/**
 * Transactions whose statements travel to MariaDB several at a time: one packet (a multi-statement query)
 * instead of one round trip per statement. For the state service's hot path (claim, finish, steps), where
 * the round trips — not the SQL — were the cost: a lifecycle's 16 statements went one by one through knex
 * and MikroORM's `execute`, each with its turn of state's event loop while the transaction held a pooled
 * connection, and a CPU profile had a third of state's busy samples inside the socket writes to MariaDB
 * (on a saturated 2-core machine mostly the thread preempted by the server it woke). In packets, state's
 * CPU per lifecycle fell from 8–12 to 6–8 ms (docs/benchmarks.md, "Fourth pass").
 *
 * The connection is one of the ORM's pool (the same pool, the same session settings: time zone, lock
 * wait, sql_mode, READ COMMITTED), taken for the whole transaction and given back after COMMIT or
 * ROLLBACK. The first packet begins with BEGIN; the one sent with `commit` ends with COMMIT. MariaDB runs
 * a packet's statements in order and stops at the first that fails: nothing after a failed statement
 * runs (the reason the per-statement version could not pipeline its writes: after a deadlock a queued
 * statement would have run in autocommit). Any failure rolls the transaction back on that connection
 * before the connection is returned; a deadlock or lock wait timeout runs the whole transaction again,
 * as `transaction()` does.
 *
 * Values are formatted by the driver (sqlstring, as MikroORM formats them): `?` a value, `??` an
 * identifier; `stmt()` refuses `\?` and `???`, which sqlstring reads differently from `run`'s count. The
 * pool must accept multi-statement queries (`OrmOptions.multipleStatements`, set by the state service
 * only); every statement sent here binds its values (spliced parts are our own identifiers and lists).
 *
 * Not on this path: knex's query log (`OrmOptions.log`) and MikroORM's transaction context — a caller
 * inside `em.transactional` would get a second connection and a second transaction (none does).
 */
import { backoff, withRetry } from '@pdr/contracts';
import type { Em } from './orm';
import { countPlaceholders, isRetryableTxError, RunResult, SqlValue } from './sql';

/** One statement and its values. */
export interface Stmt {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/** A statement with its values, checked like `run`'s (as many values as placeholders). */
export function stmt(sql: string, params: readonly SqlValue[] = []): Stmt {
  if (/\\\?|\?\?\?/.test(sql)) throw new Error(`SQL with \\? or ??? (the driver's formatting would shift the values): ${sql.slice(0, 120)}`);
  const n = countPlaceholders(sql);
  if (n !== params.length) throw new Error(`SQL has ${n} placeholders but ${params.length} values: ${sql.slice(0, 120)}`);
  return { sql, params };
}

/** What one statement of a packet gave: rows for a SELECT, the counts for a write. */
export type StmtResult = Record<string, unknown>[] | RunResult;

/** The rows of a SELECT's result. */
export function rowsOf<T>(r: StmtResult): T[] {
  if (!Array.isArray(r)) throw new Error('expected the rows of a SELECT, got the result of a write');
  return r as T[];
}

/** The affected rows and insert id of a write's result. */
export function countsOf(r: StmtResult): RunResult {
  if (Array.isArray(r)) throw new Error('expected the result of a write, got rows');
  return { affectedRows: Number(r.affectedRows ?? 0), insertId: Number(r.insertId ?? 0) };
}

export interface PacketTx {
  /**
   * Sends `stmts` in one packet (the first packet of the transaction is preceded by BEGIN; with `commit`
   * the packet ends with COMMIT and the transaction is over) and gives one result per statement.
   */
  send(stmts: readonly Stmt[], opts?: { commit?: boolean }): Promise<StmtResult[]>;
}

/** The driver's connection, as far as it is used here (mysql2's callback API). */
interface RawConnection {
  config: { multipleStatements?: boolean };
  format(sql: string, values: unknown[]): string;
  query(sql: string, cb: (err: Error | null, results: unknown) => void): void;
  destroy(): void;
}

interface KnexClient {
  acquireConnection(): Promise<RawConnection>;
  releaseConnection(conn: RawConnection): Promise<unknown> | void;
}

/** The ORM's SQL connection as far as it is used here (MikroORM's AbstractSqlConnection: its knex and pool). */
interface OrmSqlConnection {
  getKnex(): { client: unknown };
}

/**
 * The driver's errors as the ORM path gives them (MikroORM's exception converter: DeadlockException,
 * UniqueConstraintViolationException, … with the driver's code and errno kept); errors of the use case's
 * own code pass through `packetTransaction` unchanged.
 */
type Convert = (err: unknown) => unknown;

function query(conn: RawConnection, sql: string, convert: Convert): Promise<unknown> {
  return new Promise((resolve, reject) => conn.query(sql, (err, results) => (err ? reject(convert(err)) : resolve(results))));
}

/**
 * Runs `fn` as one transaction on a pooled connection (see the module comment). If `fn` returns without
 * having sent `commit`, the transaction is committed then (one more round trip). `fn` must be safe to
 * repeat: a deadlock victim is run again, everything it did rolled back.
 */
export async function packetTransaction<T>(em: Em, fn: (tx: PacketTx) => Promise<T>, attempts = 5): Promise<T> {
  const connection = em.getConnection() as unknown as OrmSqlConnection;
  const convert: Convert = (err) => (err instanceof Error ? em.getPlatform().getExceptionConverter().convertException(err as never) : err);
  const pause = backoff.jittered(5, 20);
  return withRetry(
    async () => {
      const client = connection.getKnex().client as unknown as KnexClient;
      const conn = await client.acquireConnection().catch((err: unknown) => Promise.reject(convert(err)));
      if (!conn.config.multipleStatements) {
        await client.releaseConnection(conn);
        throw new Error('packetTransaction needs a pool with multi-statement queries (createOrm with multipleStatements: true)');
      }
      let open = false;
      try {
        const tx: PacketTx = {
          send: async (stmts, opts = {}) => {
            if (!stmts.length && !opts.commit) return [];
            const parts: string[] = [];
            const begin = !open;
            if (begin) parts.push('BEGIN');
            for (const s of stmts) parts.push(conn.format(s.sql, s.params as unknown[]));
            if (opts.commit) parts.push('COMMIT');
            open = true;
            const raw = await query(conn, parts.join(';\n'), convert);
            if (opts.commit) open = false;
            // one statement alone gives its result; several give one result each
            const results = (parts.length === 1 ? [raw] : (raw as unknown[])) as StmtResult[];
            return results.slice(begin ? 1 : 0, opts.commit ? results.length - 1 : results.length);
          },
        };
        const result = await fn(tx);
        if (open) {
          await query(conn, 'COMMIT', convert);
          open = false;
        }
        return result;
      } catch (err) {
        // whatever ran of the transaction is undone before the connection goes back to the pool (a
        // statement that failed stopped its packet: COMMIT, if it was in it, did not run)
        // (a connection that cannot even roll back is closed: the pool must never hand out an open transaction)
        if (open) await query(conn, 'ROLLBACK', convert).catch(() => conn.destroy());
        throw err;
      } finally {
        await client.releaseConnection(conn);
      }
    },
    { attempts, delayMs: pause, retryable: isRetryableTxError },
  );
}
