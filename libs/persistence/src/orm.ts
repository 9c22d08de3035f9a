import { EntityCaseNamingStrategy, MikroORM, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MySqlDriver, type EntityManager } from '@mikro-orm/mysql';
import { PdrMySqlDriver } from './mariadb-schema';
import { ALL_ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { checkDatabaseName, checkDatabaseSettings, DatabaseSettings, describeDatabase } from './settings';
import { assertNotLegacy } from './legacy/detect';
import { restoreGridCountTriggers } from './grid-counts';

export type Orm = MikroORM<MySqlDriver>;
export type Em = EntityManager;

/** Name of the table MikroORM records applied migrations in. */
export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

/** Strict: a value that does not fit its column is an error, never silently truncated. */
const SQL_MODE = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/** Connection pool size when nothing else says. */
export const DEFAULT_POOL_MAX = 10;

export interface OrmOptions {
  /** Connection pool size (default DEFAULT_POOL_MAX). */
  poolMax?: number;
  /** Seconds a statement waits for a row lock before failing (default 10; MariaDB's is 50). */
  lockWaitTimeoutS?: number;
  /** Connect timeout in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Where the query builder's own warnings go (e.g. "Connection Error: ... lost"); default its console output. */
  log?: (level: 'warn' | 'error' | 'debug', message: string) => void;
  /**
   * The pool's connections accept multi-statement queries, which `packetTransaction` needs (the state
   * service's hot path). Off unless asked: with it, a statement that spliced unescaped text would also
   * allow stacked queries.
   */
  multipleStatements?: boolean;
}

function knexLog(log: NonNullable<OrmOptions['log']>) {
  const text = (m: unknown) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m));
  return {
    warn: (m: unknown) => log('warn', text(m)),
    error: (m: unknown) => log('error', text(m)),
    deprecate: (m: unknown) => log('debug', text(m)),
    debug: (m: unknown) => log('debug', text(m)),
  };
}

/**
 * The MikroORM configuration: MariaDB/MySQL driver, every entity with explicit column types
 * (no reflection), property names = column names, UTC everywhere (session time_zone '+00:00'),
 * migrations listed explicitly. Each pooled connection gets `time_zone`, a short lock wait, strict
 * sql_mode and READ COMMITTED: insert-first upserts read back rows that a concurrent transaction
 * committed after this one's first read (under REPEATABLE READ the snapshot would hide them), and
 * InnoDB takes fewer gap locks. Nothing relies on repeatable reads: transitions are conditional
 * UPDATEs or SELECT ... FOR UPDATE.
 */
export function createOrmConfig(settings: DatabaseSettings, opts: OrmOptions = {}): Options<MySqlDriver> {
  checkDatabaseSettings(settings);
  const lockWait = opts.lockWaitTimeoutS ?? 10;
  return {
    driver: PdrMySqlDriver,
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    dbName: settings.database,
    entities: ALL_ENTITIES,
    namingStrategy: EntityCaseNamingStrategy,
    forceUtcTimezone: true,
    timezone: '+00:00',
    debug: false,
    allowGlobalContext: false,
    ensureDatabase: false,
    discovery: { warnWhenNoEntities: false, checkDuplicateTableNames: true },
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      tableName: MIGRATIONS_TABLE,
      transactional: false,
      allOrNothing: false,
      snapshot: false,
      silent: true,
    },
    pool: {
      min: 0,
      max: opts.poolMax ?? DEFAULT_POOL_MAX,
      afterCreate: (conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
        conn.query(`SET time_zone = '+00:00', innodb_lock_wait_timeout = ${Number(lockWait)}, sql_mode = '${SQL_MODE}'`, (err) => {
          if (err) return done(err, conn);
          conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (err2) => done(err2, conn));
        });
      },
    },
    // multipleStatements (opt-in, OrmOptions): packetTransaction (packet-transaction.ts) sends a transaction's
    // statements in one packet; set on the driver only, so MikroORM's own schema SQL keeps running one by one
    driverOptions: { connection: { connectTimeout: opts.connectTimeoutMs ?? 5000, multipleStatements: opts.multipleStatements === true }, ...(opts.log ? { log: knexLog(opts.log) } : {}) },
  };
}

/** Opens the ORM (the pool connects lazily; the first query reports an unreachable server). */
export async function createOrm(settings: DatabaseSettings, opts: OrmOptions = {}): Promise<Orm> {
  return MikroORM.init<MySqlDriver>(createOrmConfig(settings, opts));
}

/** A short-lived ORM on the server's `information_schema`, for statements that need no database. */
async function withServer<T>(settings: DatabaseSettings, fn: (em: Em) => Promise<T>): Promise<T> {
  const orm = await MikroORM.init<MySqlDriver>({ ...createOrmConfig({ ...settings, database: 'information_schema' }, { poolMax: 1 }) });
  try {
    return await fn(orm.em.fork());
  } finally {
    await orm.close(true);
  }
}

/**
 * `CREATE DATABASE IF NOT EXISTS` over a connection without a database (race-free when several
 * services start at once). Returns true when it did not exist before.
 */
export async function ensureDatabase(settings: DatabaseSettings): Promise<boolean> {
  const name = checkDatabaseName(settings.database);
  try {
    return await withServer(settings, async (em) => {
      const res = await em.execute<{ affectedRows: number }>(
        `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
        [],
        'run',
      );
      return res.affectedRows === 1;
    });
  } catch (err) {
    throw new Error(`cannot create database ${describeDatabase(settings)}: ${(err as Error).message}`, { cause: err });
  }
}

/** `DROP DATABASE IF EXISTS` (tests). */
export async function dropDatabase(settings: DatabaseSettings): Promise<void> {
  const name = checkDatabaseName(settings.database);
  await withServer(settings, (em) => em.execute(`DROP DATABASE IF EXISTS \`${name}\``, [], 'run'));
}

const MIGRATION_LOCK_TIMEOUT_S = 120;

/**
 * Applies pending migrations. A named lock (GET_LOCK on a connection held for the duration) makes
 * concurrent starts of several state instances run them once. Returns the names applied now.
 * A database that holds pdr_run's schema, not upgraded yet, is refused (LegacySchemaError).
 */
export async function migrateUp(orm: Orm, opts: { warn?: (message: string) => void } = {}): Promise<string[]> {
  const knex = orm.em.getConnection().getKnex();
  const lockName = `pdr_migrations_${orm.config.get('dbName')}`;
  return knex.transaction(async (trx) => {
    const [rows] = (await trx.raw('SELECT GET_LOCK(?, ?) AS got', [lockName, MIGRATION_LOCK_TIMEOUT_S])) as unknown as [{ got: number | null }[]];
    if (rows[0]?.got !== 1) throw new Error(`could not take the migration lock ${lockName} within ${MIGRATION_LOCK_TIMEOUT_S} s`);
    try {
      // a pdr_run schema is upgraded by `pdr db upgrade` only: never half-migrated here
      const c = orm.config;
      await assertNotLegacy(orm.em.fork(), `mysql://${c.get('user')}@${c.get('host')}:${c.get('port')}/${c.get('dbName')}`);
      const applied = await orm.getMigrator().up();
      const restored = await restoreGridCountTriggers(orm.em.fork() as Em);
      if (restored.length) opts.warn?.(`grid counts: trigger(s) ${restored.join(', ')} were missing (a dump restored without triggers?); created again and every count recounted`);
      return applied.map((m) => m.name);
    } finally {
      await trx.raw('SELECT RELEASE_LOCK(?)', [lockName]);
    }
  });
}

/** Names of the migrations not yet applied. */
export async function pendingMigrations(orm: Orm): Promise<string[]> {
  return (await orm.getMigrator().getPendingMigrations()).map((m) => m.name);
}
