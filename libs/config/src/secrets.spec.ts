/**
 * A canary password given through the file, the environment and a flag must never show up in the
 * dry-run text, in any ConfigError, or in logger output.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearRegisteredSecrets, createLogger } from '@pdr/logging';
import { databaseSettingsFromEnv } from './database';
import { describeConfig } from './describe';
import { ConfigError } from './errors';
import { loadConfig } from './load';

const FILE_PW = 'CanaryFile-8c1e';
const ENV_PW = 'CanaryEnv-2b7d';
const FLAG_PW = 'CanaryFlag-5a9f';
const STORAGE_PW = 'CanaryStore-3d2c';
const ALL = [FILE_PW, ENV_PW, FLAG_PW, STORAGE_PW];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-secret-'));
  clearRegisteredSecrets();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function expectClean(text: string): void {
  for (const c of ALL) expect(text).not.toContain(c);
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const goodFile = () =>
  write(
    'good.yaml',
    `database:\n  username: kt\n  password: ${FILE_PW}\nstorage:\n  type: sftp\n  host: h\n  base_dir: /remote\n  password: ${STORAGE_PW}\n` +
      `  remote_path_prefix: sftp://kt:${STORAGE_PW}@h/x\n`,
  );

describe.each([
  ['file', {}, undefined],
  ['env', { PDR_DB_PASSWORD: ENV_PW }, undefined],
  ['flag', { PDR_DB_PASSWORD: ENV_PW }, { database: { password: FLAG_PW } }],
] as const)('password via %s', (source, env, flags) => {
  it('is used, and masked in describeConfig', () => {
    const { config, sources } = loadConfig({ file: goodFile(), env, flags, cwd: dir });
    expect(sources['database.password']).toBe(source);
    const expected = source === 'file' ? FILE_PW : source === 'env' ? ENV_PW : FLAG_PW;
    expect(config.database.password).toBe(expected);
    expect(config.storage.password).toBe(STORAGE_PW);
    const text = describeConfig(config, sources, { env: { ...env, PDR_STORAGE_PASSWORD: STORAGE_PW } });
    expectClean(text);
    expect(text).toMatch(/^ {2}password: \*\*\* {2}\[/m);
    expect(text).toContain('PDR_STORAGE_PASSWORD: ***');
    expect(text).toContain('username: kt'); // usernames are not secrets
  });

  it('never appears in logger output, whatever is logged', () => {
    const { config, sources } = loadConfig({ file: goodFile(), env, flags, cwd: dir });
    const lines: string[] = [];
    const log = createLogger('cli', { destination: { write: (s: string) => lines.push(s) }, env: {}, level: 'debug' });
    log.debug({ config }, 'effective configuration');
    log.info(`connecting with ${config.database.password} to mysql://kt:${config.database.password}@db/pdr`);
    log.error(new Error(`Access denied for user 'kt' (using password: ${config.database.password})`));
    log.info({ dsn: { a: [`pw=${config.storage.password}`] } }, describeConfig(config, sources));
    expect(lines).toHaveLength(4);
    expectClean(lines.join(''));
  });
});

describe('ConfigError messages never contain a secret', () => {
  it('a typo elsewhere in a file that holds a password', () => {
    const f = write('typo.yaml', `database:\n  password: ${FILE_PW}\n  hostt: db\n`);
    const e = thrown(() => loadConfig({ file: f, env: {}, cwd: dir }));
    expect(e.message).toMatch(/database\.hostt: unknown key \(did you mean database\.host\?\)/);
    expectClean(e.message + e.issues.join());
  });

  it('a wrong-typed password: type shown, value hidden', () => {
    const f = write('t.yaml', `database:\n  password: {x: ${FILE_PW}}\n`);
    const e = thrown(() => loadConfig({ file: f, env: {}, cwd: dir }));
    expect(e.message).toMatch(/database\.password: expected a string, got mapping \(value hidden\)/);
    expectClean(e.message);
  });

  it('a YAML syntax error on the password line', () => {
    const f = write('s.yaml', `database:\n  password: "${FILE_PW}\n  host: [\n`);
    const e = thrown(() => loadConfig({ file: f, env: {}, cwd: dir }));
    expect(e.message).toMatch(/YAML syntax error/);
    expectClean(e.message);
  });

  it('an env error while a password is in the environment', () => {
    const e = thrown(() => loadConfig({ env: { PDR_DB_PASSWORD: ENV_PW, PDR_DB_PORT: 'x' }, cwd: dir }));
    expect(e.message).toMatch(/^PDR_DB_PORT/);
    expectClean(e.message);
  });

  it('a password that leaks into another value (e.g. pasted into a URL) is masked in messages', () => {
    const f = write('u.yaml', `database:\n  password: ${FILE_PW}\n  port: ${FILE_PW}\n`);
    const e = thrown(() => loadConfig({ file: f, env: {}, cwd: dir }));
    expect(e.message).toMatch(/database\.port: expected an integer, got string '\*\*\*'/);
    expectClean(e.message);
  });

  it('databaseSettingsFromEnv errors', () => {
    const e = thrown(() => databaseSettingsFromEnv({ PDR_DB_TYPE: 'sqlite', PDR_DB_PASSWORD: ENV_PW }));
    expectClean(e.message);
  });
});

describe('remote storage keys (sftp key file, passphrase, known_hosts, port; rclone connection strings)', () => {
  const PASSPHRASE = 'CanaryPassphrase-77aa';
  const RCLONE_PASS = 'CanaryRclonePass-19bf';

  it('reads them from file and environment (flag > env > file), paths resolved, secrets masked in the dry-run text', () => {
    const file = write(
      'sftp.yaml',
      `storage:\n  type: sftp\n  host: h\n  port: 2222\n  username: u\n  base_dir: /remote\n  key_file: keys/id\n  key_passphrase: ${PASSPHRASE}\n  known_hosts_file: /etc/kh\n  host_key_check: false\n`,
    );
    const { config } = loadConfig({ file, cwd: dir, env: { PDR_STORAGE_PORT: '2200' } });
    expect(config.storage).toMatchObject({ port: 2200, username: 'u', key_file: path.join(dir, 'keys/id'), known_hosts_file: '/etc/kh', host_key_check: false });
    const text = describeConfig(config, {}, {});
    expect(text).toContain(path.join(dir, 'keys/id'));
    expect(text).not.toContain(PASSPHRASE);
    const log: string[] = [];
    createLogger('t', { destination: { write: (l: string) => log.push(l) }, env: {}, logDir: null }).error(`key passphrase ${PASSPHRASE} rejected`);
    expect(log.join('\n')).toContain('key passphrase *** rejected');
  });

  it('host_key_check defaults to true; PDR_STORAGE_HOST_KEY_CHECK turns it off; a bad value names the variable', () => {
    expect(loadConfig({ cwd: dir, env: {} }).config.storage.host_key_check).toBe(true);
    expect(loadConfig({ cwd: dir, env: { PDR_STORAGE_HOST_KEY_CHECK: 'false' } }).config.storage.host_key_check).toBe(false);
    expect(thrown(() => loadConfig({ cwd: dir, env: { PDR_STORAGE_HOST_KEY_CHECK: 'maybe' } })).message).toMatch(/PDR_STORAGE_HOST_KEY_CHECK/);
  });

  it('a secret inside an rclone connection string is masked wherever it shows', () => {
    const file = write('rclone.yaml', `storage:\n  type: rclone\n  rclone_remote: ":sftp,host=h,user=u,pass=${RCLONE_PASS}:"\n  base_dir: /data\n`);
    const { config } = loadConfig({ file, cwd: dir, env: {} });
    expect(describeConfig(config, {}, {})).not.toContain(RCLONE_PASS);
  });
});
