import {
  clearRegisteredSecrets,
  isSecretKey,
  maskJsonLine,
  maskKnownSecrets,
  maskSecrets,
  maskUrl,
  registerSecret,
} from './mask';

const CANARY = 'Canary-PW-7f3a!';

afterEach(() => clearRegisteredSecrets());

describe('isSecretKey', () => {
  it.each(['password', 'PASSWORD', 'db_password', 'dbPassword', 'passwd', 'pwd', 'client_secret', 'token',
    'accessToken', 'api_key', 'apiKey', 'APIKEY', 'private_key', 'privateKey', 'credentials', 'auth',
    'auth_token', 'basicAuth', 'Authorization', 'x-auth'])('%s is secret', (k) => {
    expect(isSecretKey(k)).toBe(true);
  });
  it.each(['username', 'user', 'email', 'host', 'author', 'authority_host_name', 'port', 'base_dir'])(
    '%s is not secret', (k) => {
      expect(isSecretKey(k)).toBe(false);
    });
});

describe('maskSecrets', () => {
  it('masks secret keys at any depth, inside arrays, and keeps usernames', () => {
    const input = {
      database: { username: 'root', password: CANARY, host: 'db' },
      list: [{ token: CANARY }, [{ nested: { api_key: CANARY } }]],
      user: { username: 'Markus', email: 'm@example.org' },
    };
    const out = maskSecrets(input) as typeof input;
    expect(JSON.stringify(out)).not.toContain(CANARY);
    expect(out.database).toEqual({ username: 'root', password: '***', host: 'db' });
    expect(out.user).toEqual({ username: 'Markus', email: 'm@example.org' });
    expect(out.list[0]).toEqual({ token: '***' });
    // input untouched
    expect(input.database.password).toBe(CANARY);
  });

  it('prints empty / null / undefined secrets as (not set)', () => {
    expect(maskSecrets({ password: '', token: null, secret: undefined })).toEqual({
      password: '(not set)',
      token: '(not set)',
      secret: '(not set)',
    });
  });

  it('masks URL passwords in any string value', () => {
    const out = maskSecrets({ url: `mysql://root:${CANARY}@db:3306/pdr`, notes: [`see sftp://u:${CANARY}@h/x`] });
    expect(JSON.stringify(out)).not.toContain(CANARY);
    expect((out as { url: string }).url).toBe('mysql://root:***@db:3306/pdr');
  });

  it('masks registered secrets in free text, keys and errors (message, stack, cause, own props)', () => {
    registerSecret(CANARY);
    const cause = new Error(`inner ${CANARY}`);
    const err = new TypeError(`Access denied for 'root' using password ${CANARY}`, { cause }) as TypeError & {
      detail?: string;
    };
    err.detail = `detail ${CANARY}`;
    const out = maskSecrets({ err, msg: `x${CANARY}y`, [CANARY]: 1 }) as Record<string, unknown>;
    const e = out.err as TypeError & { detail: string; cause: Error };
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe("Access denied for 'root' using password ***");
    expect(e.stack).not.toContain(CANARY);
    expect(e.detail).toBe('detail ***');
    expect(e.cause.message).toBe('inner ***');
    expect(out.msg).toBe('x***y');
    expect(Object.keys(out)).toContain('***');
    expect(err.message).toContain(CANARY); // original untouched
  });

  it('survives circular references', () => {
    const a: Record<string, unknown> = { password: CANARY };
    a.self = a;
    const out = maskSecrets(a) as Record<string, unknown>;
    expect(out.self).toBe('[Circular]');
    expect(out.password).toBe('***');
  });
});

describe('maskUrl', () => {
  it.each([
    ['mysql://root:pw@host/db', 'mysql://root:***@host/db'],
    ['mysql://root:p@ss:w@host:3306/db', 'mysql://root:***@host:3306/db'],
    ['connect to sftp://me:pw@h and mail x@y.z', 'connect to sftp://me:***@h and mail x@y.z'],
    ['mysql://root@host/db', 'mysql://root@host/db'],
    ['mysql://root:@host/db', 'mysql://root:@host/db'],
    ['no url here', 'no url here'],
  ])('%s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });
  it('leaves non-strings alone', () => {
    expect(maskUrl(42)).toBe(42);
  });
});

describe('maskKnownSecrets / maskJsonLine', () => {
  it('masks raw, URL-encoded and JSON-escaped forms', () => {
    const s = 'p@ss "quoted" w/slash';
    registerSecret(s);
    expect(maskKnownSecrets(`a ${s} b`)).toBe('a *** b');
    expect(maskKnownSecrets(`a ${encodeURIComponent(s)} b`)).toBe('a *** b');
    expect(maskKnownSecrets(`a ${JSON.stringify(s)} b`)).toBe('a "***" b');
  });
  it('keeps a JSON line valid even for secrets made of JSON syntax', () => {
    registerSecret('"level"');
    registerSecret('\\x\\y');
    const line = JSON.stringify({ level: 'info', msg: 'a "level" b \\x\\y c', n: 1 });
    const out = maskJsonLine(line);
    expect(JSON.parse(out)).toEqual({ level: 'info', msg: 'a *** b *** c', n: 1 });
  });
  it('ignores empty, null, non-string and too short secrets', () => {
    registerSecret('');
    registerSecret(null);
    registerSecret(undefined);
    registerSecret({ toString: () => 'nothing' });
    registerSecret('pdr');
    expect(maskKnownSecrets('nothing to hide in pdr')).toBe('nothing to hide in pdr');
    registerSecret(12345);
    expect(maskKnownSecrets('pin 12345')).toBe('pin ***');
  });
  it('short passwords are still masked by key name and in URLs', () => {
    registerSecret('pdr');
    expect(maskSecrets({ password: 'pdr', url: 'mysql://root:pdr@h/pdr' })).toEqual({
      password: '***',
      url: 'mysql://root:***@h/pdr',
    });
  });
});
