/**
 * `pdr storage check --config F` and the same check in `pdr run` before it submits, on real storage: a local
 * folder (writable, and unwritable for an unprivileged user: the CLI runs as `nobody` in a child process,
 * since CI runs as root), a private sshd (key, wrong password, server down) and rclone (missing remote).
 * One line says what works or exactly what does not; nothing is submitted when the check fails.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, expectOneLineError, MOCK_BASE, pdr, Result, tmpDir } from './helpers';
import { rcloneUnavailable, sshdUnavailable, startSshd, type SshdServer } from '../support/sshd';

jest.setTimeout(120_000);
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const noSshd = sshdUnavailable();
const noRclone = rcloneUnavailable();
if (!asRoot) console.warn('storage check as an unprivileged user skipped: needs root to run the CLI as another user');
if (noSshd) console.warn(`storage check over SFTP skipped: ${noSshd}`);
if (noRclone) console.warn(`storage check over rclone skipped: ${noRclone}`);

/** NATS on a port where nothing listens: a command that tried to submit would fail with exit 3. */
const NO_NATS = { PDR_NATS_URL: 'nats://127.0.0.1:1' };

function config(dir: string, storage: string, model = 'check_model'): string {
  const f = path.join(dir, `${model}-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(
    f,
    `pdr:\n  model_name: ${model}\n  base_dir: ${MOCK_BASE}\n  chem_database: chem_rates_mock.dat\nstorage:\n${storage}\nmodel_parameters:\n  dens: ["30"]\n  chi: ["10"]\n  species: ["CO"]\n`,
  );
  fs.chmodSync(f, 0o644);
  return f;
}

/** The built CLI as another user (no shell). */
function pdrAs(uid: number, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_'))) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: '/', env: { ...base, HOME: '/tmp', ...env }, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(() => {
  dir = tmpDir('pdr-storage-check-');
  fs.chmodSync(dir, 0o755);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('local storage', () => {
  it('a writable folder: one line saying what works, exit 0, no probe left behind', async () => {
    const st = path.join(dir, 'ok');
    const r = await pdr(['storage', 'check', '--config', config(dir, `  type: local\n  base_dir: ${st}`)]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`storage ${st}/check_model: OK (write, read back, sha256 verified, delete)`);
    expect(fs.readdirSync(path.join(st, 'check_model', 'pdrgrid'))).toEqual([]);
  });

  it('a base under /proc: a clear error at once', async () => {
    const r = await pdr(['storage', 'check', '--config', config(dir, '  type: local\n  base_dir: /proc/pdr_storage')]);
    expectOneLineError(r, 2, /\/proc\/pdr_storage is on procfs/);
  });

  (asRoot ? it : it.skip)('an unwritable folder (EACCES for the user): storage check and pdr run refuse in one line; nothing submitted', async () => {
    const st = path.join(dir, 'readonly');
    fs.mkdirSync(st);
    fs.chmodSync(st, 0o755); // root's: the user nobody cannot write in it
    const cfg = config(dir, `  type: local\n  base_dir: ${st}`);
    const check = await pdrAs(NOBODY, ['storage', 'check', '--config', cfg]);
    expectOneLineError(check, 2, /write failed \(permissions\): .*EACCES/);
    const run = await pdrAs(NOBODY, ['run', '--config', cfg], NO_NATS);
    expectOneLineError(run, 2, new RegExp(`storage ${st}/check_model: write failed \\(permissions\\)`));
    expect(fs.readdirSync(st)).toEqual([]);
  });

  (asRoot ? it : it.skip)('pdr check and pdr run --dry-run make the read-only check: an unwritable folder is one error, nothing written', async () => {
    const st = path.join(dir, 'readonly-dry');
    fs.mkdirSync(st);
    fs.chmodSync(st, 0o755);
    const cfg = config(dir, `  type: local\n  base_dir: ${st}`);
    for (const args of [['check', '--config', cfg], ['run', '--config', cfg, '--dry-run']]) {
      const r = await pdrAs(NOBODY, args, NO_NATS);
      expectOneLineError(r, 2, new RegExp(`^pdr: error: storage ${st}/check_model: read-only check failed \\(permissions\\): ${st} is not writable: EACCES`));
    }
    expect(fs.readdirSync(st)).toEqual([]);
    // --no-storage-check leaves it out
    expect((await pdrAs(NOBODY, ['check', '--config', cfg, '--no-storage-check'], NO_NATS)).code).toBe(0);
  });

  it('pdr run --dry-run and pdr check on a writable folder: the read-only check says OK, nothing is created', async () => {
    const st = path.join(dir, 'dry-ok');
    fs.mkdirSync(st);
    const cfg = config(dir, `  type: local\n  base_dir: ${st}`);
    for (const args of [['check', '--config', cfg], ['run', '--config', cfg, '--dry-run']]) {
      const r = await pdr(args, { env: NO_NATS });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`storage ${st}/check_model: OK (read-only check: ${st} (${st}/check_model/pdrgrid would be created there) writable; nothing written)`);
    }
    expect(fs.readdirSync(st)).toEqual([]);
  });
});

(noSshd ? describe.skip : describe)('SFTP storage', () => {
  let sshd: SshdServer;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.destroy();
  });
  const sftp = (extra = '') =>
    `  type: sftp\n  host: 127.0.0.1\n  port: ${sshd.port}\n  username: ${sshd.user}\n  base_dir: ${sshd.storageDir}\n  known_hosts_file: ${sshd.knownHostsFile}\n${extra}`;

  it('key authentication: OK in one line', async () => {
    const r = await pdr(['storage', 'check', '--config', config(dir, sftp(`  key_file: ${sshd.keyFile}`))]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`storage sftp://${sshd.user}@127.0.0.1:${sshd.port}${sshd.storageDir}/check_model: OK (write, read back, sha256 verified, delete)`);
  });

  it('password from the config file: OK (the warning says the runners need it in their environment)', async () => {
    const r = await pdr(['storage', 'check', '--config', config(dir, sftp(`  password: ${sshd.password}`))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(write/);
    expect(r.stdout + r.stderr).not.toContain(sshd.password);
  });

  it('a wrong password: one clear error from storage check and from pdr run, never the password', async () => {
    // from the environment, as the runners get it (a password in the file adds a warning line to pdr run)
    const cfg = config(dir, sftp());
    for (const args of [['storage', 'check', '--config', cfg], ['run', '--config', cfg]]) {
      const r = await pdr(args, { env: { ...NO_NATS, PDR_STORAGE_PASSWORD: 'wrong-password-4711' } });
      expectOneLineError(r, 2, /connect failed \(authentication\): .*authentication failed/);
      expect(r.stderr).not.toContain('wrong-password-4711');
    }
  });

  it('a wrong key: the same one error', async () => {
    const r = await pdr(['storage', 'check', '--config', config(dir, sftp(`  key_file: ${sshd.knownHostsFile}`))], { env: NO_NATS });
    expectOneLineError(r, 2, /\(authentication\)/);
  });

  it('pdr check / pdr run --dry-run over SFTP: read-only — OK with the folder permissions, a wrong password and a root-owned folder are one error each, nothing written', async () => {
    const listing = () => execFileSync('find', [sshd.storageDir], { encoding: 'utf8' });
    const before = listing();
    const ok = await pdr(['run', '--config', config(dir, sftp(`  key_file: ${sshd.keyFile}`)), '--dry-run'], { env: NO_NATS });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`storage sftp://${sshd.user}@127\\.0\\.0\\.1:${sshd.port}${sshd.storageDir}/check_model: OK \\(read-only check: connected; ${sshd.storageDir}[^:]*: mode 7\\d\\d, owner ${sshd.uid}, group \\d+; user ${sshd.uid}; nothing written\\)`));
    const cfg = config(dir, sftp());
    const bad = await pdr(['check', '--config', cfg], { env: { ...NO_NATS, PDR_STORAGE_PASSWORD: 'wrong-password-4711' } });
    expectOneLineError(bad, 2, /^pdr: error: storage sftp:.*read-only check failed \(authentication\)/);
    expect(bad.stderr).not.toContain('wrong-password-4711');
    // a folder of root's (755) inside the user's storage dir: not writable for the user
    const rootOwned = path.join(sshd.storageDir, 'root-owned');
    fs.mkdirSync(rootOwned);
    fs.chmodSync(rootOwned, 0o755);
    const ro = await pdr(['check', '--config', config(dir, sftp(`  key_file: ${sshd.keyFile}`).replace(`base_dir: ${sshd.storageDir}`, `base_dir: ${rootOwned}`))], { env: NO_NATS });
    expectOneLineError(ro, 2, /read-only check failed \(permissions\): permission denied: .*root-owned.*mode 755, owner 0.*not writable/);
    expect(fs.readdirSync(rootOwned)).toEqual([]);
    expect(listing()).toBe(`${before}${rootOwned}\n`);
  });

  it('the server down: unreachable, exit 3', async () => {
    await sshd.stop();
    try {
      const r = await pdr(['storage', 'check', '--config', config(dir, sftp(`  key_file: ${sshd.keyFile}`))]);
      expectOneLineError(r, 3, /\(unreachable\)/);
    } finally {
      await sshd.start();
    }
  });
});

(noRclone ? describe.skip : describe)('rclone storage', () => {
  it('a remote missing from rclone.conf: one error naming it', async () => {
    const r = await pdr(['storage', 'check', '--config', config(dir, '  type: rclone\n  rclone_remote: "nosuchremote:"\n  base_dir: /data')], {
      env: { RCLONE_CONFIG: path.join(dir, 'none.conf') },
    });
    expectOneLineError(r, 2, /nosuchremote/);
  });

  it('pdr check with a missing remote: one read-only error naming it', async () => {
    const r = await pdr(['check', '--config', config(dir, '  type: rclone\n  rclone_remote: "nosuchremote:"\n  base_dir: /data')], {
      env: { ...NO_NATS, RCLONE_CONFIG: path.join(dir, 'none.conf') },
    });
    expectOneLineError(r, 2, /read-only check failed \(missing remote\): .*nosuchremote/);
  });

  it('a local remote: OK', async () => {
    const st = path.join(dir, 'rclone-ok');
    fs.mkdirSync(st);
    const r = await pdr(['storage', 'check', '--config', config(dir, `  type: rclone\n  rclone_remote: ":local:"\n  base_dir: ${st}`)]);
    expect(r.stdout.trim()).toBe(`storage rclone::local:${st}/check_model: OK (write, read back, sha256 verified, delete)`);
  });

  it('a secret in the connection string is refused by pdr run before anything, masked', async () => {
    const r = await pdr(['run', '--config', config(dir, '  type: rclone\n  rclone_remote: ":sftp,host=h,pass=topsecret99:"\n  base_dir: /data')], { env: NO_NATS });
    expectOneLineError(r, 2, /carries pass/);
    expect(r.stderr).not.toContain('topsecret99');
  });
});
