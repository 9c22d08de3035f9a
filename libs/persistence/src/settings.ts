/**
 * Connection settings of the one database the state service owns (DESIGN "Who owns what").
 * The shape matches @pdr/config's database settings; `databaseSettingsFromEnvFallback` reads the
 * PDR_DB_* variables for callers that do not use the config library.
 */
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

/** PDR_DB_HOST (127.0.0.1), PDR_DB_PORT (3306), PDR_DB_USERNAME (root), PDR_DB_PASSWORD (''), PDR_DB_DATABASE (pdr). */
export function databaseSettingsFromEnvFallback(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const portText = env.PDR_DB_PORT ?? '3306';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PDR_DB_PORT="${portText}" is not a port number (1-65535)`);
  }
  const database = env.PDR_DB_DATABASE || 'pdr';
  checkDatabaseName(database, 'PDR_DB_DATABASE');
  return {
    host: env.PDR_DB_HOST || '127.0.0.1',
    port,
    user: env.PDR_DB_USERNAME || 'root',
    password: env.PDR_DB_PASSWORD ?? '',
    database,
  };
}

/** The PDR_DB_* variables that give a child process these settings (the inverse of databaseSettingsFromEnvFallback). */
export function databaseEnv(s: DatabaseSettings): Record<'PDR_DB_HOST' | 'PDR_DB_PORT' | 'PDR_DB_USERNAME' | 'PDR_DB_PASSWORD' | 'PDR_DB_DATABASE', string> {
  return { PDR_DB_HOST: s.host, PDR_DB_PORT: String(s.port), PDR_DB_USERNAME: s.user, PDR_DB_PASSWORD: s.password, PDR_DB_DATABASE: s.database };
}

/** For logs and errors: everything but the password. */
export function describeDatabase(s: DatabaseSettings): string {
  return `mysql://${s.user}@${s.host}:${s.port}/${s.database}`;
}
