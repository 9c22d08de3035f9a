import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearRegisteredSecrets } from '@pdr/logging';
import { databaseSettingsFromEnv } from './database';
import { ConfigError } from './errors';

describe('databaseSettingsFromEnv', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-db-'));
    clearRegisteredSecrets();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('defaults: MariaDB/MySQL on 127.0.0.1:3306, database pdr, root, no password', () => {
    expect(databaseSettingsFromEnv({})).toMatchObject({
      type: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      database: 'pdr',
      username: 'root',
      password: '',
    });
  });

  it('environment variables', () => {
    const s = databaseSettingsFromEnv({
      PDR_DB_TYPE: 'mariadb',
      PDR_DB_HOST: 'db',
      PDR_DB_PORT: '3307',
      PDR_DB_DATABASE: 'kt',
      PDR_DB_USERNAME: 'u',
      PDR_DB_PASSWORD: 'pass-word',
    });
    expect(s).toMatchObject({ type: 'mariadb', host: 'db', port: 3307, database: 'kt', username: 'u', password: 'pass-word' });
    expect('path' in s).toBe(false);
  });

  it('config file database section below the environment', () => {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'database:\n  type: mysql\n  host: filehost\n  database: fromfile\n  pool_size: 9\n');
    const s = databaseSettingsFromEnv({ PDR_DB_HOST: 'envhost' }, { file, cwd: dir });
    expect(s).toMatchObject({ host: 'envhost', database: 'fromfile', pool_size: 9 });
  });

  it('rejects non-MySQL types, naming where the type came from', () => {
    expect(() => databaseSettingsFromEnv({ PDR_DB_TYPE: 'sqlite' })).toThrow(
      /^PDR_DB_TYPE: database type 'sqlite' is not supported; the state service needs MySQL or MariaDB/,
    );
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'database:\n  type: postgresql\n');
    expect(() => databaseSettingsFromEnv({}, { file })).toThrow(new RegExp(`${file}: database.type: database type 'postgresql'`));
    expect(() => databaseSettingsFromEnv({ PDR_DB_TYPE: 'oracle' })).toThrow(ConfigError);
    expect(() => databaseSettingsFromEnv({ PDR_DB_TYPE: 'oracle' })).toThrow(/PDR_DB_TYPE: invalid value 'oracle'/);
  });

  it('PDR_DB_PORT invalid → error naming it', () => {
    expect(() => databaseSettingsFromEnv({ PDR_DB_PORT: 'abc' })).toThrow(/^PDR_DB_PORT: invalid port 'abc'/);
  });
});
