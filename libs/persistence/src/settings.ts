/**
 * Connection settings of the one database the state service owns (DESIGN "Who owns what").
 * The PDR_DB_* variables, their defaults and their validation are @pdr/config's (its `database`
 * schema); `databaseSettingsFromEnvFallback` reads them through it, without a config file.
 */
import { ENV_VARS, sectionFromEnv } from '@pdr/config';

export interface DatabaseSettings {
  host: string;
  port: number;
  user: string;
  /** Never logged; `describeDatabase` leaves it out. */
  password: string;
  /** Database (schema) name; created when missing. */
  database: string;
}

/** MariaDB/MySQL identifiers we accept as database names: no quoting surprises, max 64 chars. */
const DB_NAME = /^[A-Za-z0-9_]{1,64}$/;

export function checkDatabaseName(name: string, source = 'database name'): string {
  if (!DB_NAME.test(name)) {
    throw new Error(`${source}: invalid database name ${JSON.stringify(name)} (letters, digits and "_" only, at most 64 characters)`);
  }
  return name;
}

/** Validates settings, naming the offending field. */
export function checkDatabaseSettings(s: DatabaseSettings): DatabaseSettings {
  if (typeof s.host !== 'string' || s.host.trim() === '') throw new Error('database host: must not be empty');
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new Error(`database port: ${String(s.port)} is not a port number (1-65535)`);
  if (typeof s.user !== 'string' || s.user === '') throw new Error('database user: must not be empty');
  if (typeof s.password !== 'string') throw new Error('database password: must be a string');
  checkDatabaseName(s.database);
  return s;
}

/**
 * The server from the PDR_DB_* variables alone, through @pdr/config's `database` section (its defaults:
 * 127.0.0.1:3306, user root, no password, database pdr). An invalid variable is a ConfigError naming it;
 * the password is registered for masking.
 */
export function databaseSettingsFromEnvFallback(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const { values: db, sources } = sectionFromEnv('database', env);
  checkDatabaseName(db.database, sources['database.database'] === 'env' ? 'PDR_DB_DATABASE' : 'database name');
  return { host: db.host, port: db.port, user: db.username, password: db.password, database: db.database };
}

type DatabaseEnvName = 'PDR_DB_HOST' | 'PDR_DB_PORT' | 'PDR_DB_USERNAME' | 'PDR_DB_PASSWORD' | 'PDR_DB_DATABASE';

/** The variable that sets `database.<key>` in @pdr/config's schema. */
function envName(key: 'host' | 'port' | 'username' | 'password' | 'database'): DatabaseEnvName {
  const v = ENV_VARS.find((e) => e.key === `database.${key}`);
  if (!v) throw new Error(`@pdr/config declares no variable for database.${key}`);
  return v.name as DatabaseEnvName;
}

/** The PDR_* variables that give a child process these settings (the inverse of databaseSettingsFromEnvFallback). */
export function databaseEnv(s: DatabaseSettings): Record<DatabaseEnvName, string> {
  return {
    [envName('host')]: s.host,
    [envName('port')]: String(s.port),
    [envName('username')]: s.user,
    [envName('password')]: s.password,
    [envName('database')]: s.database,
  } as Record<DatabaseEnvName, string>;
}

/** For logs and errors: everything but the password. */
export function describeDatabase(s: DatabaseSettings): string {
  return `mysql://${s.user}@${s.host}:${s.port}/${s.database}`;
}
