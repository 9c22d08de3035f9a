import type { DatabaseSettings } from '@pdr/persistence';

/** Settings for a throw-away test database (`pdr_test_<random>`); see database.js. */
export declare function testDatabaseSettings(env?: NodeJS.ProcessEnv): DatabaseSettings;
