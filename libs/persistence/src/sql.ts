/**
 * Thin helpers over the entity manager's connection, so use cases write plain SQL that runs in the
 * EM's current transaction (inside `em.transactional(tem => ...)`, pass `tem`).
 */
import { DeadlockException, IsolationLevel, LockWaitTimeoutException } from '@mikro-orm/core';
import { escape as mysqlEscape } from 'mysql2';
import { backoff, withRetry } from '@pdr/contracts';
import type { Em } from './orm';

export type SqlValue = string | number | boolean | null | readonly (string | number)[];

export interface RunResult {
  affectedRows: number;
  insertId: number;
}

/**
 * Number of `?` placeholders the driver will fill (MikroORM formats client-side: a `?` inside a string
 * literal would be taken as a placeholder too, so statements must not contain one).
 */
export function countPlaceholders(sql: string): number {
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    if (sql[i] !== '?') continue;
    if (sql[i - 1] === '\\') continue;
    n++;
    if (sql[i + 1] === '?') i++;
  }
  return n;
}

function checkParams(sql: string, params: readonly SqlValue[]): void {
  const n = countPlaceholders(sql);
  if (n !== params.length) throw new Error(`SQL has ${n} placeholders but ${params.length} values: ${sql.slice(0, 120)}`);
}

/** INSERT/UPDATE/DELETE: affected (matched) rows and the insert id. */
export async function run(em: Em, sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
  checkParams(sql, params);
  const res = await em.execute<{ affectedRows: number; insertId: number }>(sql, params as unknown[], 'run');
  return { affectedRows: Number(res.affectedRows ?? 0), insertId: Number(res.insertId ?? 0) };
}

/** SELECT: all rows. */
export async function all<T>(em: Em, sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
  checkParams(sql, params);
  return (await em.execute(sql, params as unknown[], 'all')) as unknown as T[];
}

/** SELECT: first row or undefined. */
export async function one<T>(em: Em, sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
  const rows = await all<T>(em, sql, params);
  return rows[0];
}

/**
 * One value as an SQL literal, exactly as MikroORM formats a bound value (sqlstring's escape): a number
 * as String(n), a string quoted with backslash escapes, null as NULL, a boolean as true/false. For the
 * big multi-row statements, whose values are formatted here once instead of through the ORM's
 * placeholder substitution (see runLiteral). A non-finite number is an error (it has no SQL literal).
 */
export function sqlLiteral(value: string | number | boolean | null): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`sqlLiteral: ${value} is not a finite number`);
    return String(value);
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return mysqlEscape(value);
  throw new Error(`sqlLiteral: unsupported value ${JSON.stringify(value)} (${typeof value})`);
}

/** `a, b, c` as literals, for an IN list (never empty: callers check). */
export function literalList(values: readonly (string | number)[]): string {
  if (values.length < 1) throw new Error('literalList: empty list');
  let out = sqlLiteral(values[0]);
  for (let i = 1; i < values.length; i++) out += `, ${sqlLiteral(values[i])}`;
  return out;
}

/**
 * INSERT/UPDATE/DELETE whose values are already literals in the text (sqlLiteral): nothing is
 * substituted on the way (no placeholders; a `?` inside a string literal is just a character).
 */
export async function runLiteral(em: Em, sql: string): Promise<RunResult> {
  const res = await em.execute<{ affectedRows: number; insertId: number }>(sql, [], 'run');
  return { affectedRows: Number(res.affectedRows ?? 0), insertId: Number(res.insertId ?? 0) };
}

/** SELECT whose values are already literals in the text (see runLiteral): all rows. */
export async function allLiteral<T>(em: Em, sql: string): Promise<T[]> {
  return (await em.execute(sql, [], 'all')) as unknown as T[];
}

/** `(?, ?, ?), (?, ?, ?)` for `rows` rows of `width` values. */
export function placeholders(rows: number, width: number): string {
  const one = `(${new Array(width).fill('?').join(', ')})`;
  return new Array(rows).fill(one).join(', ');
}

/** `?, ?, ?` for an IN list (never empty: callers check). */
export function inList(n: number): string {
  if (n < 1) throw new Error('inList: empty list');
  return new Array(n).fill('?').join(', ');
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Quotes an identifier we generated ourselves (column names from our own lists). */
export function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** Deadlock / lock wait timeout: the transaction was rolled back and may simply be run again. */
export function isRetryableTxError(err: unknown): boolean {
  if (err instanceof DeadlockException || err instanceof LockWaitTimeoutException) return true;
  const e = err as { errno?: number } | null;
  return e?.errno === 1213 || e?.errno === 1205;
}

/**
 * One short transaction, run again (a few times, with a small jittered pause) when InnoDB picked it as
 * a deadlock victim. `fn` must be safe to repeat: everything it did was rolled back.
 */
export async function transaction<T>(em: Em, fn: (tem: Em) => Promise<T>, attempts = 5, opts: { isolationLevel?: IsolationLevel } = {}): Promise<T> {
  // the victim's contender usually commits within milliseconds: 5 ms plus a random part growing with the
  // try (up to 20 ms × try) so the two do not collide again in step; the five tries are the caller's default
  const pause = backoff.jittered(5, 20);
  return withRetry(() => em.transactional((tem) => fn(tem as Em), opts), { attempts, delayMs: pause, retryable: isRetryableTxError });
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_QUERY_INTERRUPTED',
]);
/** MariaDB/MySQL error numbers meaning "the server or this connection is gone / refuses connections". */
const UNAVAILABLE_ERRNOS = new Set([1040, 1053, 1203, 1317, 1927, 2002, 2003, 2006, 2013]);

/**
 * True when an error means the database cannot be reached right now (server down, connection killed
 * or lost, pool cannot connect): answered as UNAVAILABLE, the caller retries. Looks through `cause`.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | null | undefined, depth = 0; e && depth < 5; e = e.cause as never, depth++) {
    if (typeof e !== 'object') return false;
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.errno === 'number' && UNAVAILABLE_ERRNOS.has(e.errno)) return true;
    const name = typeof e.name === 'string' ? e.name : '';
    if (name === 'KnexTimeoutError' || name === 'ConnectionException') return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (/closed state|Connection lost|connection is closed|Pool is closed|Timeout acquiring a connection|connect ECONNREFUSED/i.test(message)) return true;
    // knex completes a transaction itself when its connection dies under a query; the rollback that
    // follows then fails with this message, which replaces the connection error (seen in
    // test/state/db-recovery when a request's transaction held a connection the outage killed)
    if (/^Transaction query already complete/.test(message)) return true;
  }
  return false;
}
