/** The `nats` section and PDR_NATS_* variables: precedence, paths, conflicts, and secrets never shown. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearRegisteredSecrets, maskText } from '@pdr/logging';
import { describeConfig } from './describe';
import { loadConfig } from './load';
import { natsSettingsFromEnv } from './nats';

const TOKEN = 'CanaryToken-77aa';
const PW = 'CanaryNatsPw-19fe';
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-nats-cfg-'));
  clearRegisteredSecrets();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const p = path.join(dir, 'c.yaml');
  fs.writeFileSync(p, text);
  return p;
}

describe('NATS settings', () => {
  it('defaults to the local server without credentials', () => {
    expect(natsSettingsFromEnv({}, { cwd: dir })).toEqual({ url: 'nats://127.0.0.1:4222' });
  });

  it('reads PDR_NATS_* with paths resolved against the cwd', () => {
    const s = natsSettingsFromEnv({ PDR_NATS_URL: 'tls://n:4222', PDR_NATS_CREDS_FILE: 'a.creds', PDR_NATS_TLS_CA: '/ca.pem' }, { cwd: dir });
    expect(s).toEqual({ url: 'tls://n:4222', creds_file: path.join(dir, 'a.creds'), tls_ca: '/ca.pem' });
  });

  it('takes the file`s nats section below the environment', () => {
    const f = file(`nats:\n  url: nats://file:4222\n  user: cli\n  password: ${PW}\n`);
    expect(natsSettingsFromEnv({}, { file: f, cwd: dir })).toEqual({ url: 'nats://file:4222', user: 'cli', password: PW });
    expect(natsSettingsFromEnv({ PDR_NATS_URL: 'nats://env:1' }, { file: f, cwd: dir }).url).toBe('nats://env:1');
  });

  it('refuses two methods, a password without a user and a certificate without its key, naming them', () => {
    expect(() => natsSettingsFromEnv({ PDR_NATS_TOKEN: TOKEN, PDR_NATS_CREDS_FILE: '/x' })).toThrow('NATS authentication: PDR_NATS_TOKEN and PDR_NATS_CREDS_FILE are set; choose one method');
    expect(() => natsSettingsFromEnv({ PDR_NATS_PASSWORD: PW })).toThrow('PDR_NATS_PASSWORD is set without PDR_NATS_USER');
    const f = file('nats:\n  tls_cert: /c.pem\n');
    expect(() => natsSettingsFromEnv({}, { file: f })).toThrow('NATS TLS: nats.tls_cert and PDR_NATS_TLS_KEY go together');
  });

  it('rejects an unknown key of the nats section with the nearest one', () => {
    const f = file('nats:\n  pasword: x\n');
    expect(() => loadConfig({ file: f, env: {} })).toThrow(/nats\.pasword: unknown key.*password/);
  });

  it('masks the password and the token in the dry-run text and in free text', () => {
    const f = file(`nats:\n  user: cli\n  password: ${PW}\n`);
    const { config, sources } = loadConfig({ file: f, env: { PDR_NATS_TOKEN: TOKEN } });
    const text = describeConfig(config, sources, { env: { PDR_NATS_TOKEN: TOKEN } });
    expect(text).toContain('PDR_NATS_TOKEN: ***');
    expect(text).toContain('password: ***  [file]');
    expect(text).not.toContain(PW);
    expect(text).not.toContain(TOKEN);
    expect(maskText(`failed with ${PW} and ${TOKEN}`)).toBe('failed with *** and ***');
  });
});
