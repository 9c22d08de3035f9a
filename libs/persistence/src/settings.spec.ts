/** PDR_DB_* are read through @pdr/config's one description of the `database` section (no database needed). */
import { ConfigError, ENV_VARS } from '@pdr/config';
import { clearRegisteredSecrets, maskText } from '@pdr/logging';
import { databaseEnv, databaseSettingsFromEnvFallback } from './settings';

beforeEach(() => clearRegisteredSecrets());

describe('databaseSettingsFromEnvFallback', () => {
  it("has the config schema's defaults", () => {
    expect(databaseSettingsFromEnvFallback({})).toEqual({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'pdr' });
  });

  it('empty variables count as unset, as everywhere in the configuration', () => {
    expect(databaseSettingsFromEnvFallback({ PDR_DB_HOST: '', PDR_DB_PORT: '' })).toMatchObject({ host: '127.0.0.1', port: 3306 });
  });

  it('an invalid variable is a ConfigError naming it, with the config library`s wording', () => {
    expect(() => databaseSettingsFromEnvFallback({ PDR_DB_PORT: '33o6' })).toThrow(ConfigError);
    expect(() => databaseSettingsFromEnvFallback({ PDR_DB_PORT: '33o6' })).toThrow("PDR_DB_PORT: invalid port '33o6' (expected an integer 1-65535)");
    expect(() => databaseSettingsFromEnvFallback({ PDR_DB_DATABASE: 'a-b' })).toThrow(/^PDR_DB_DATABASE: invalid database name "a-b"/);
  });

  it('other sections` variables are not read (a bad PDR_STORAGE_PORT does not fail it)', () => {
    expect(databaseSettingsFromEnvFallback({ PDR_STORAGE_PORT: 'x', PDR_DB_HOST: 'h' }).host).toBe('h');
  });

  it('registers the password for masking', () => {
    databaseSettingsFromEnvFallback({ PDR_DB_PASSWORD: 'CanaryDbPw-5521' });
    expect(maskText('connect failed with CanaryDbPw-5521')).toBe('connect failed with ***');
  });
});

describe('databaseEnv', () => {
  it('uses the variables the config schema declares for the database keys, and reads back the same', () => {
    const s = { host: 'db.example', port: 3307, user: 'grid', password: 'p w', database: 'pdr_x' };
    const env = databaseEnv(s);
    const declared = Object.fromEntries(ENV_VARS.filter((v) => v.key.startsWith('database.')).map((v) => [v.key, v.name]));
    expect(Object.keys(env).sort()).toEqual(
      ['database.host', 'database.port', 'database.username', 'database.password', 'database.database'].map((k) => declared[k]).sort(),
    );
    expect(databaseSettingsFromEnvFallback(env)).toEqual(s);
  });
});
