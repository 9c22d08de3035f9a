import { ConfigError } from './errors';
import { loadConfig } from './load';
import { configField, SUPPORTED_DB_TYPES, type DatabaseConfig } from './schema';

/** Connection settings the state service can use (MySQL/MariaDB only). */
export type DatabaseSettings = Omit<DatabaseConfig, 'type' | 'path'> & { type: 'mysql' | 'mariadb' };

export interface DatabaseSettingsOptions {
  /** Optional pdr_run config file whose `database` section is merged (below the environment). */
  file?: string;
  cwd?: string;
}

/**
 * Database settings for the state service: defaults (mysql on 127.0.0.1:3306, database `pdr`,
 * user root, no password) < config file `database` section < PDR_DB_* variables — the same
 * precedence and validation as loadConfig (the whole file is validated). PDR_DB_PORT invalid →
 * ConfigError naming it; a type other than mysql/mariadb → ConfigError naming where it came from.
 * The password is registered for log masking.
 */
export function databaseSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  opts: DatabaseSettingsOptions = {},
): DatabaseSettings {
  const { config, sources, file } = loadConfig({ env, file: opts.file, cwd: opts.cwd });
  const { path: _path, ...db } = config.database;
  if (!SUPPORTED_DB_TYPES.includes(db.type)) {
    const src = sources['database.type'];
    const where = src === 'env' ? (configField('database.type')?.env ?? []).join('/') : src === 'file' ? `${file}: database.type` : 'database.type';
    throw new ConfigError(
      `${where}: database type '${db.type}' is not supported; the state service needs MySQL or MariaDB (mysql, mariadb)`,
    );
  }
  return { ...db, type: db.type as 'mysql' | 'mariadb' };
}
