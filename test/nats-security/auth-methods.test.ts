/**
 * Every way a service or the CLI can authenticate to NATS, each against a real nats-server of its own
 * configured for it: token, NKey seed file, .creds file (operator mode with JWTs), TLS with a client
 * certificate. Each method is given through PDR_NATS_* (natsSettingsFromEnv) to the one connectNats,
 * and `pdr health` (a CLI process) uses the same variables. Wrong or missing credentials are refused
 * with a one-line error that never shows a secret.
 */
import { execFileSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { natsSettingsFromEnv } from '@pdr/config';
import { connectNats } from '@pdr/messaging';
import { nkeys, type NatsConnection } from 'nats';
import { OwnNatsServer, stopAll } from '../support/processes';
import { pdr } from '../cli/helpers';

jest.setTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), 'pdr-nats-auth-'));
const servers: OwnNatsServer[] = [];
const available = OwnNatsServer.available();

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function serverWith(name: string, conf: string): Promise<OwnNatsServer> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const s = await OwnNatsServer.start(join(dir, `${name}-js`), { config: file });
  servers.push(s);
  return s;
}

/** Connects with the settings these variables give, proves the connection works (a round trip), closes it. */
async function roundTrip(env: Record<string, string>): Promise<void> {
  const nc: NatsConnection = await connectNats({ name: 'auth-test', reconnect: false, settings: natsSettingsFromEnv(env, { cwd: dir }) });
  try {
    const sub = nc.subscribe('auth.echo', { max: 1, callback: (_e, m) => m.respond(m.data) });
    const reply = await nc.request('auth.echo', new TextEncoder().encode('hi'), { timeout: 5000 });
    expect(new TextDecoder().decode(reply.data)).toBe('hi');
    sub.unsubscribe();
  } finally {
    await nc.close();
  }
}

/** `pdr health` with these variables: it connects (then finds no service: exit 3) or is refused (exit 2). */
async function cliHealth(env: Record<string, string>) {
  return pdr(['health'], { env: { ...env, PDR_NATS_PREFIX: 'auth' }, cwd: dir });
}

const d = available ? describe : describe.skip;
if (!available) console.warn('NATS authentication tests skipped: no nats-server binary');

d('NATS authentication methods', () => {
  it('token (PDR_NATS_TOKEN)', async () => {
    const token = randomBytes(16).toString('hex');
    const s = await serverWith('token', `authorization { token: "${token}" }\n`);
    await roundTrip({ PDR_NATS_URL: s.url, PDR_NATS_TOKEN: token });
    const bad = await cliHealth({ PDR_NATS_URL: s.url, PDR_NATS_TOKEN: 'not-the-token' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^pdr: error: NATS at nats:\/\/127\.0\.0\.1:\d+ refused the connection with token/);
    expect(bad.stderr).not.toContain('not-the-token');
    const good = await cliHealth({ PDR_NATS_URL: s.url, PDR_NATS_TOKEN: token });
    expect(good.stderr).not.toMatch(/refused/);
    expect(good.code).toBe(3); // connected; no service of namespace "auth" answers
  });

  it('NKey seed file (PDR_NATS_NKEY_SEED_FILE)', async () => {
    const user = nkeys.createUser();
    const seedFile = join(dir, 'user.nk');
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()) + '\n', { mode: 0o600 });
    const other = nkeys.createUser();
    const otherFile = join(dir, 'other.nk');
    writeFileSync(otherFile, new TextDecoder().decode(other.getSeed()), { mode: 0o600 });
    const s = await serverWith('nkey', `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n`);
    await roundTrip({ PDR_NATS_URL: s.url, PDR_NATS_NKEY_SEED_FILE: 'user.nk' }); // relative to the cwd
    const bad = await cliHealth({ PDR_NATS_URL: s.url, PDR_NATS_NKEY_SEED_FILE: otherFile });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/refused the connection with NKey seed file/);
    expect(bad.stderr).not.toContain(new TextDecoder().decode(other.getSeed()));
    const missing = await cliHealth({ PDR_NATS_URL: s.url, PDR_NATS_NKEY_SEED_FILE: join(dir, 'nope.nk') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pdr: error: NATS NKey seed file .*nope\.nk cannot be read \(ENOENT\)\n$/);
  });

  it('.creds file (PDR_NATS_CREDS_FILE) against a server in operator mode', async () => {
    const operator = nkeys.createOperator();
    const account = nkeys.createAccount();
    const user = nkeys.createUser();
    const system = nkeys.createAccount();
    const opJwt = jwt(operator, operator.getPublicKey(), 'op', { type: 'operator', version: 2 });
    const accJwt = jwt(operator, account.getPublicKey(), 'acc', {
      type: 'account',
      version: 2,
      limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
      default_permissions: { pub: {}, sub: {} },
    });
    const sysJwt = jwt(operator, system.getPublicKey(), 'SYS', { type: 'account', version: 2, limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 } });
    const userJwt = jwt(account, user.getPublicKey(), 'u', { type: 'user', version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
    const s = await serverWith(
      'creds',
      [
        `operator: ${opJwt}`,
        `system_account: ${system.getPublicKey()}`,
        'resolver: MEMORY',
        'resolver_preload: {',
        `  ${account.getPublicKey()}: ${accJwt}`,
        `  ${system.getPublicKey()}: ${sysJwt}`,
        '}',
        '',
      ].join('\n'),
    );
    const seed = new TextDecoder().decode(user.getSeed());
    const credsFile = join(dir, 'user.creds');
    writeFileSync(credsFile, credsText(userJwt, seed), { mode: 0o600 });
    await roundTrip({ PDR_NATS_URL: s.url, PDR_NATS_CREDS_FILE: credsFile });
    // a user JWT the server's operator never signed
    const stranger = nkeys.createAccount();
    const strangerJwt = jwt(stranger, user.getPublicKey(), 'u', { type: 'user', version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
    const badFile = join(dir, 'bad.creds');
    writeFileSync(badFile, credsText(strangerJwt, seed), { mode: 0o600 });
    const bad = await cliHealth({ PDR_NATS_URL: s.url, PDR_NATS_CREDS_FILE: badFile });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/refused the connection with credentials file .*bad\.creds/);
    expect(bad.stderr).not.toContain(seed);
    // anonymous: refused
    await expect(connectNats({ name: 'anon', reconnect: false, settings: { url: s.url } })).rejects.toThrow(/refused the connection with no credentials/);
    // not a creds file
    writeFileSync(join(dir, 'notcreds'), 'hello');
    const notCreds = await cliHealth({ PDR_NATS_URL: s.url, PDR_NATS_CREDS_FILE: join(dir, 'notcreds') });
    expect(notCreds.code).toBe(2);
    expect(notCreds.stderr).toMatch(/is not a \.creds file/);
  });

  it('TLS with a CA and a client certificate (PDR_NATS_TLS_CA, PDR_NATS_TLS_CERT, PDR_NATS_TLS_KEY)', async () => {
    const pki = makePki(join(dir, 'pki'));
    const s = await serverWith(
      'tls',
      ['tls {', `  cert_file: "${pki.serverCert}"`, `  key_file: "${pki.serverKey}"`, `  ca_file: "${pki.ca}"`, '  verify: true', '}', ''].join('\n'),
    );
    const tlsEnv = { PDR_NATS_URL: `tls://localhost:${s.port}`, PDR_NATS_TLS_CA: pki.ca, PDR_NATS_TLS_CERT: pki.clientCert, PDR_NATS_TLS_KEY: pki.clientKey };
    await roundTrip(tlsEnv);
    // without the client certificate the server refuses the handshake
    const noCert = await cliHealth({ PDR_NATS_URL: tlsEnv.PDR_NATS_URL, PDR_NATS_TLS_CA: pki.ca });
    expect(noCert.code).not.toBe(0);
    expect(noCert.stderr.trim().split('\n')).toHaveLength(1);
    // a certificate without its key is a configuration mistake, named before connecting
    const half = await cliHealth({ PDR_NATS_URL: tlsEnv.PDR_NATS_URL, PDR_NATS_TLS_CA: pki.ca, PDR_NATS_TLS_CERT: pki.clientCert });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/PDR_NATS_TLS_CERT and PDR_NATS_TLS_KEY go together/);
    const good = await cliHealth(tlsEnv);
    expect(good.code).toBe(3);
  });

  it('two methods at once are a configuration mistake naming both', async () => {
    const r = await cliHealth({ PDR_NATS_TOKEN: 'abcdefgh', PDR_NATS_USER: 'u', PDR_NATS_PASSWORD: 'secretpw' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PDR_NATS_TOKEN and PDR_NATS_USER\/PDR_NATS_PASSWORD are set; choose one method/);
    expect(r.stderr).not.toMatch(/abcdefgh|secretpw/);
  });
});

// --- NATS JWTs (ed25519-nkey), as nsc writes them, for the operator-mode server of the creds test

function b64url(x: Uint8Array | string): string {
  return Buffer.from(x).toString('base64url');
}

function jwt(issuer: { getPublicKey(): string; sign(d: Uint8Array): Uint8Array }, subject: string, name: string, nats: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats };
  claims.jti = createHash('sha256').update(JSON.stringify(claims)).digest('base64url');
  const payload = b64url(JSON.stringify(claims));
  const sig = issuer.sign(new TextEncoder().encode(`${header}.${payload}`));
  return `${header}.${payload}.${b64url(sig)}`;
}

function credsText(userJwt: string, seed: string): string {
  return [
    '-----BEGIN NATS USER JWT-----',
    userJwt,
    '------END NATS USER JWT------',
    '',
    '************************* IMPORTANT *************************',
    'NKEY Seed printed below can be used to sign and prove identity.',
    '',
    '-----BEGIN USER NKEY SEED-----',
    seed,
    '------END USER NKEY SEED------',
    '',
  ].join('\n');
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, made with openssl. */
function makePki(at: string) {
  execFileSync('mkdir', ['-p', at]);
  const f = (n: string) => join(at, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=pdr-test-ca');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who === 'server' ? 'localhost' : 'pdr-runner'}`);
    writeFileSync(f(`${who}.ext`), who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', '-extfile', f(`${who}.ext`));
  }
  expect(readFileSync(f('client.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
