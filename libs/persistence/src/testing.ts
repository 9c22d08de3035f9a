import { randomBytes } from 'crypto';
import { databaseSettingsFromEnvFallback, DatabaseSettings } from './settings';

/**
 * Settings for a throw-away test database: server from PDR_DB_* (local defaults), database name
 * `pdr_test_<random>` so test files never share data. Drop it with `dropDatabase` at the end.
 */
export function testDatabaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  return { ...databaseSettingsFromEnvFallback(env), database: `pdr_test_${randomBytes(6).toString('hex')}` };
}
