'use strict';
// Plain JavaScript so the benches (node test/bench/*.js, after the build) and the jest tests share it;
// its types are in database.d.ts.
const { randomBytes } = require('crypto');
const { databaseSettingsFromEnvFallback } = require('@pdr/persistence');

/**
 * Settings for a throw-away test database: server from PDR_DB_* (local defaults), database name
 * `pdr_test_<random>` so test files never share data. Drop it with `dropDatabase` at the end.
 */
function testDatabaseSettings(env = process.env) {
  return { ...databaseSettingsFromEnvFallback(env), database: `pdr_test_${randomBytes(6).toString('hex')}` };
}

module.exports = { testDatabaseSettings };
