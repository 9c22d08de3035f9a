/**
 * Every storage backend against a real server: local disk, SFTP to a private OpenSSH sshd (key and password
 * auth), rclone to that sshd (an on-the-fly `:sftp,…:` remote, and a named remote from RCLONE_CONFIG_*
 * variables with an obscured password) and rclone to a local remote. Same behaviours, same tree on disk.
 */
import { execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import type { StorageSettings } from '@pdr/contracts';
import { closeStorageConnections, createStorage, rcloneDaemonPids, SftpConnection, SftpStorage, StorageError, StoragePathError, type StorageBackend } from '@pdr/storage';
import { rcloneObscure, rcloneUnavailable, sshdUnavailable, startSshd, type SshdServer } from '../support/sshd';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const noSshd = sshdUnavailable();
const noRclone = rcloneUnavailable();
if (noSshd) console.warn(`storage backend tests over SFTP skipped: ${noSshd}`);
if (noRclone) console.warn(`storage backend tests over rclone skipped: ${noRclone}`);

/** Every regular file below `dir`, relative, sorted (temp names would show here). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

let sshd: SshdServer | null = null;
let tmp: string;
let src: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pdr-backends-'));
  src = join(tmp, 'src');
  mkdirSync(src);
  if (!noSshd) sshd = await startSshd();
}, 60_000);

afterAll(async () => {
  await closeStorageConnections();
  await sshd?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

interface Case {
  name: string;
  skip: string | null;
  /** settings + env of the backend, and the directory on this machine where its base lands */
  make: (sub: string) => { settings: StorageSettings; env: NodeJS.ProcessEnv; disk: string };
}

const base = { PATH: process.env.PATH, HOME: process.env.HOME };

/** A fresh base directory for one test: in the sshd user's storage dir (writable by it) or in tmp. */
function sshBase(sub: string): string {
  const s = sshd as SshdServer;
  const d = join(s.storageDir, sub);
  mkdirSync(d);
  chownSync(d, s.uid, s.gid);
  return d;
}

const cases: Case[] = [
  {
    name: 'local',
    skip: null,
    make: (sub) => {
      const disk = join(tmp, 'local', sub);
      return { settings: { type: 'local', baseDir: disk }, env: base, disk };
    },
  },
  {
    name: 'sftp (key)',
    skip: noSshd,
    make: (sub) => {
      const s = sshd as SshdServer;
      const disk = sshBase(sub);
      return {
        settings: { type: 'sftp', host: s.host, port: s.port, username: s.user, baseDir: disk, privateKeyFile: s.keyFile, knownHostsFile: s.knownHostsFile, hostKeyCheck: true },
        env: base,
        disk,
      };
    },
  },
  {
    name: 'sftp (password)',
    skip: noSshd,
    make: (sub) => {
      const s = sshd as SshdServer;
      const disk = sshBase(sub);
      return {
        settings: { type: 'sftp', host: s.host, port: s.port, username: s.user, baseDir: disk, privateKeyFile: null, knownHostsFile: s.knownHostsFile, hostKeyCheck: true },
        env: { ...base, PDR_STORAGE_PASSWORD: s.password },
        disk,
      };
    },
  },
  {
    name: 'rclone → sftp (on-the-fly remote, key)',
    skip: noSshd ?? noRclone,
    make: (sub) => {
      const s = sshd as SshdServer;
      const disk = sshBase(sub);
      const remote = `:sftp,host=${s.host},port=${s.port},user=${s.user},key_file=${s.keyFile},known_hosts_file=${s.knownHostsFile}:`;
      return { settings: { type: 'rclone', remote, baseDir: disk, remotePathPrefix: null }, env: base, disk };
    },
  },
  {
    name: 'rclone → sftp (RCLONE_CONFIG_* remote, password, prefix)',
    skip: noSshd ?? noRclone,
    make: (sub) => {
      const s = sshd as SshdServer;
      const disk = sshBase(sub);
      const env = {
        ...base,
        RCLONE_CONFIG_PDRSSH_TYPE: 'sftp',
        RCLONE_CONFIG_PDRSSH_HOST: s.host,
        RCLONE_CONFIG_PDRSSH_PORT: String(s.port),
        RCLONE_CONFIG_PDRSSH_USER: s.user,
        RCLONE_CONFIG_PDRSSH_PASS: rcloneObscure(s.password),
        RCLONE_CONFIG_PDRSSH_KNOWN_HOSTS_FILE: s.knownHostsFile,
      };
      // pdr_run's layout: base_dir is a path on the user's machine, the prefix maps it onto the remote
      return { settings: { type: 'rclone', remote: `pdrssh:${disk}`, baseDir: `/home/u/run/${sub}`, remotePathPrefix: `/home/u/run/${sub}` }, env, disk };
    },
  },
  {
    name: 'rclone → local remote',
    skip: noRclone,
    make: (sub) => {
      const disk = join(tmp, 'rclone-local', sub);
      mkdirSync(disk, { recursive: true });
      return { settings: { type: 'rclone', remote: ':local:', baseDir: disk, remotePathPrefix: null }, env: base, disk };
    },
  },
];

let n = 0;
describe.each(cases)('$name', (c) => {
  const it_ = c.skip ? it.skip : it;
  let storage: StorageBackend;
  let disk: string;
  beforeEach(() => {
    const made = c.make(`t${++n}`);
    storage = createStorage(made.settings, { env: made.env });
    disk = made.disk;
  });

  it_('stores atomically with size and sha256, reads back, lists, removes; no temp names remain', async () => {
    const a = join(src, `a${n}`);
    writeFileSync(a, 'hello pdr\n');
    const st = await storage.store(a, 'm/pdrgrid/pdr1.hdf');
    expect(st).toMatchObject({ relPath: 'm/pdrgrid/pdr1.hdf', size: 10, sha256: sha('hello pdr\n') });
    expect(readFileSync(join(disk, 'm/pdrgrid/pdr1.hdf'), 'utf8')).toBe('hello pdr\n');
    expect(await storage.exists('m/pdrgrid/pdr1.hdf')).toBe(true);
    expect(await storage.exists('m/pdrgrid/none')).toBe(false);
    expect(await storage.exists('m/pdrgrid')).toBe(false); // a directory is not a file
    expect(await storage.exists('nomodel/pdrgrid/x')).toBe(false);
    expect(await storage.stat('m/pdrgrid/pdr1.hdf')).toMatchObject({ size: 10, sha256: sha('hello pdr\n') });
    expect(await storage.stat('m/pdrgrid/none')).toBeNull();
    // remote backends: metadata without reading the file (the runner's "already stored" check)
    if (c.name !== 'local') {
      expect(storage.head).toBeDefined();
      expect(await storage.head!('m/pdrgrid/pdr1.hdf')).toMatchObject({ relPath: 'm/pdrgrid/pdr1.hdf', size: 10 });
      expect(await storage.head!('m/pdrgrid/none')).toBeNull();
      expect(await storage.head!('m/pdrgrid')).toBeNull();
    }
    expect(await storage.list('m')).toEqual(['pdrgrid/']);
    expect(await storage.list('m/pdrgrid')).toEqual(['pdr1.hdf']);
    expect(await storage.list('m/nothing')).toEqual([]);
    const back = join(tmp, `back${n}`, 'x.hdf');
    await storage.retrieve('m/pdrgrid/pdr1.hdf', back);
    expect(readFileSync(back, 'utf8')).toBe('hello pdr\n');
    await expect(storage.retrieve('m/pdrgrid/none', back)).rejects.toThrow(/no such file/);
    // overwrite
    writeFileSync(a, 'second version');
    expect((await storage.store(a, 'm/pdrgrid/pdr1.hdf')).sha256).toBe(sha('second version'));
    expect(readFileSync(join(disk, 'm/pdrgrid/pdr1.hdf'), 'utf8')).toBe('second version');
    await storage.remove('m/pdrgrid/pdr1.hdf');
    await storage.remove('m/pdrgrid/pdr1.hdf'); // missing: not an error
    expect(await storage.exists('m/pdrgrid/pdr1.hdf')).toBe(false);
    expect(tree(disk)).toEqual([]);
  });

  it_("stores one job's files in one call, sizes across buffer bounds, each complete", async () => {
    const sizes = [0, 1, 4095, 32768, 32769, 100_000, 600_001, (1 << 20) + 7, 3 * (1 << 20) + 1];
    const items = sizes.map((size, i) => {
      const f = join(src, `f${n}-${i}`);
      const data = Buffer.alloc(size, i + 1);
      writeFileSync(f, data);
      return { localPath: f, relPath: `m/${i % 2 ? 'oniongrid' : 'pdrgrid'}/f${i}`, hash: sha(data), size };
    });
    const stored = await storage.storeMany(items);
    expect(stored.map((s) => [s.relPath, s.size, s.sha256])).toEqual(items.map((i) => [i.relPath, i.size, i.hash]));
    for (const it of items) expect(sha(readFileSync(join(disk, it.relPath)))).toBe(it.hash);
    expect(tree(disk)).toEqual(items.map((i) => i.relPath).sort());
  });

  it_('confines every path to the base: escaping names are refused before anything is touched', async () => {
    const a = join(src, `c${n}`);
    writeFileSync(a, 'x');
    for (const bad of ['../escape', 'm/../../escape', '/etc/passwd', 'm//a', './m/a', 'm/a\0b', 'm\\..\\a', '']) {
      await expect(storage.store(a, bad)).rejects.toThrow(StoragePathError);
      await expect(storage.exists(bad)).rejects.toThrow(StoragePathError);
      await expect(storage.retrieve(bad, join(tmp, 'r'))).rejects.toThrow(StoragePathError);
    }
    await expect(storage.storeMany([{ localPath: a, relPath: 'm/../../x' }])).rejects.toThrow(StoragePathError);
    expect(tree(disk)).toEqual([]);
  });

  it_('a store error is a StorageError naming the backend and the file, never a secret', async () => {
    const err = await storage.store(join(src, 'missing-file'), 'm/pdrgrid/a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/missing-file/);
    expect((err as Error).message).toContain(storage.describe());
    if (sshd) expect((err as Error).message).not.toContain(sshd.password);
  });
});

(noSshd ? describe.skip : describe)('SFTP connection and failures', () => {
  const settings = (over: Partial<Extract<StorageSettings, { type: 'sftp' }>> = {}): Extract<StorageSettings, { type: 'sftp' }> => {
    const s = sshd as SshdServer;
    return { type: 'sftp', host: s.host, port: s.port, username: s.user, baseDir: s.storageDir, privateKeyFile: s.keyFile, knownHostsFile: s.knownHostsFile, hostKeyCheck: true, ...over };
  };
  const conn = (over: Partial<ConstructorParameters<typeof SftpConnection>[0]> = {}) => {
    const s = sshd as SshdServer;
    return new SftpConnection({
      host: s.host,
      port: s.port,
      username: s.user,
      privateKeyFile: s.keyFile,
      knownHostsFile: s.knownHostsFile,
      hostKeyCheck: true,
      connectTimeoutMs: 10_000,
      parallelTransfers: 4,
      ...over,
    });
  };

  it('one connection for many stores; after the server restarts it connects again', async () => {
    const c = conn();
    const st = new SftpStorage(c, (sshd as SshdServer).storageDir);
    const files = Array.from({ length: 20 }, (_, i) => {
      const f = join(src, `reuse${i}`);
      writeFileSync(f, `file ${i}`);
      return { localPath: f, relPath: `reuse/pdrgrid/f${i}` };
    });
    await st.storeMany(files);
    expect(c.connects).toBe(1);
    await (sshd as SshdServer).stop();
    const down = await st.store(files[0].localPath, 'reuse/pdrgrid/again').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(StorageError);
    expect((down as StorageError).transient).toBe(true);
    expect((down as Error).message).toMatch(new RegExp(`sftp://${(sshd as SshdServer).user}@127.0.0.1:${(sshd as SshdServer).port}`));
    await (sshd as SshdServer).start();
    expect((await st.store(files[1].localPath, 'reuse/pdrgrid/again')).sha256).toBe(sha('file 1'));
    expect(c.connects).toBeGreaterThanOrEqual(2);
    await c.close();
  });

  (noRclone ? it.skip : it)("rclone → sftp: the runner's daemon keeps working after the server restarts (down: transient; back: stored)", async () => {
    const s = sshd as SshdServer;
    const d = sshBase('rclone-restart');
    const remote = `:sftp,host=${s.host},port=${s.port},user=${s.user},key_file=${s.keyFile},known_hosts_file=${s.knownHostsFile}:`;
    const st = createStorage({ type: 'rclone', remote, baseDir: d, remotePathPrefix: null }, { env: base });
    const a = join(src, 'rr');
    writeFileSync(a, 'before restart');
    await st.store(a, 'm/pdrgrid/a');
    await s.stop();
    const down = await st.store(a, 'm/pdrgrid/b').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(StorageError);
    expect((down as StorageError).transient).toBe(true);
    await s.start();
    writeFileSync(a, 'after restart');
    expect((await st.store(a, 'm/pdrgrid/b')).sha256).toBe(sha('after restart'));
    expect(readFileSync(join(d, 'm/pdrgrid/b'), 'utf8')).toBe('after restart');
    expect(tree(d)).toEqual(['m/pdrgrid/a', 'm/pdrgrid/b']);
  });

  it('authenticates through an ssh-agent (SSH_AUTH_SOCK of the runner) when no password or key is given', async () => {
    const { spawn: spawnChild, execFileSync } = require('child_process') as typeof import('child_process');
    const sock = join(tmp, 'agent.sock');
    const agent = spawnChild('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', [(sshd as SshdServer).keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const a = join(src, 'agent');
      writeFileSync(a, 'via agent');
      const st = createStorage(settings({ privateKeyFile: null, baseDir: sshBase('agent') }), { env: { SSH_AUTH_SOCK: sock } });
      expect((await st.store(a, 'm/pdrgrid/a')).sha256).toBe(sha('via agent'));
      // without the agent (and nothing else) there is no way in: said so, permanently
      const none = (await createStorage(settings({ privateKeyFile: null }), { env: {} }).exists('m/x').catch((e: unknown) => e)) as StorageError;
      expect(none.transient).toBe(false);
      expect(none.message).toMatch(/no way to authenticate: set PDR_STORAGE_PASSWORD, storage.key_file/);
    } finally {
      agent.kill();
    }
  });

  it("the jobs of a runner share the base's checked folders; a folder removed on the server is made again", async () => {
    const base = sshBase('shared');
    const a = join(src, 'shared');
    writeFileSync(a, 'one');
    await createStorage(settings({ baseDir: base }), { env: {} }).store(a, 'm/pdrgrid/a');
    rmSync(join(base, 'm'), { recursive: true, force: true });
    writeFileSync(a, 'two');
    const again = await createStorage(settings({ baseDir: base }), { env: {} }).store(a, 'm/pdrgrid/a');
    expect(again.sha256).toBe(sha('two'));
    expect(readFileSync(join(base, 'm/pdrgrid/a'), 'utf8')).toBe('two');
  });

  it('a wrong password is one permanent error naming the server, not the password', async () => {
    const s = sshd as SshdServer;
    const st = createStorage(settings({ privateKeyFile: null }), { env: { PDR_STORAGE_PASSWORD: 'not-the-password-123' } });
    const err = (await st.exists('m/x').catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/authentication failed/);
    expect(err.message).toContain(`sftp://${s.user}@127.0.0.1:${s.port}`);
    expect(err.message).not.toContain('not-the-password-123');
  });

  it('a wrong key is refused the same way', async () => {
    const other = join(tmp, 'other_key');
    require('child_process').execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const err = (await createStorage(settings({ privateKeyFile: other }), { env: {} }).exists('m/x').catch((e: unknown) => e)) as StorageError;
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/authentication failed/);
  });

  it('an unknown host key is refused (permanent); the explicit opt-out connects and logs it', async () => {
    const empty = join(tmp, 'empty_known_hosts');
    writeFileSync(empty, '');
    const err = (await createStorage(settings({ knownHostsFile: empty }), { env: {} }).exists('m/x').catch((e: unknown) => e)) as StorageError;
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/host key rejected: .*no ssh-ed25519 host key in .*empty_known_hosts/);
    const warned: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warned.push(msg) } as never;
    expect(await createStorage(settings({ knownHostsFile: empty, hostKeyCheck: false }), { env: {}, logger }).exists('m/x')).toBe(false);
    expect(warned.join('\n')).toMatch(/host key checking is OFF/);
  });

  it('a changed host key is refused', async () => {
    const s = sshd as SshdServer;
    const wrong = join(tmp, 'wrong_known_hosts');
    const other = readFileSync(`${s.keyFile}.pub`, 'utf8').split(/\s+/);
    writeFileSync(wrong, `[127.0.0.1]:${s.port} ${other[0]} ${other[1]}\n`);
    const err = (await createStorage(settings({ knownHostsFile: wrong }), { env: {} }).exists('m/x').catch((e: unknown) => e)) as StorageError;
    expect(err.message).toMatch(/host key rejected: .*differs/);
  });

  it('connection refused (nothing listening) is transient', async () => {
    const err = (await createStorage(settings({ port: 1 }), { env: {} }).exists('m/x').catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(true);
    expect(err.message).toMatch(/127\.0\.0\.1:1/);
  });

  it('permission denied in the model folder is permanent and names the path', async () => {
    const s = sshd as SshdServer;
    const d = join(s.storageDir, 'ro');
    mkdirSync(join(d, 'm', 'pdrgrid'), { recursive: true }); // owned by root: not writable by the user
    chmodSync(join(d, 'm', 'pdrgrid'), 0o755);
    const a = join(src, 'perm');
    writeFileSync(a, 'x');
    const err = (await createStorage(settings({ baseDir: d }), { env: {} }).store(a, 'm/pdrgrid/a').catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/permission denied/i);
    expect(err.message).toMatch(/m\/pdrgrid\/a/);
  });

  it('one slot takes small and streamed files of a job together; a failed rename renames none of the last files and leaves no temp file', async () => {
    const d = sshBase('mixed');
    const c = conn({ parallelTransfers: 1 });
    const st = new SftpStorage(c, d);
    const file = (name: string, size: number) => {
      const f = join(src, name);
      writeFileSync(f, Buffer.alloc(size, name.length));
      return f;
    };
    const sizes = [10, 2_000, (1 << 20) + 3, 70_000, 2 * (1 << 20) + 1, 5];
    const ok = sizes.map((size, i) => ({ localPath: file(`mix${i}`, size), relPath: `m/pdrgrid/f${i}`, last: i >= 4 }));
    expect((await st.storeMany(ok)).map((f) => f.size)).toEqual(sizes);
    expect(tree(d)).toEqual(ok.map((i) => i.relPath).sort());
    // a folder under the final name of a file that is not last: its rename fails (permanent)
    mkdirSync(join(d, 'm', 'pdrgrid', 'taken'));
    chownSync(join(d, 'm', 'pdrgrid', 'taken'), (sshd as SshdServer).uid, (sshd as SshdServer).gid);
    const bad = [
      { localPath: file('bad0', 100), relPath: 'm/pdrgrid/b0' },
      { localPath: file('bad1', 100), relPath: 'm/pdrgrid/taken' },
      { localPath: file('bad2', (1 << 20) + 9), relPath: 'm/pdrgrid/b2' },
      { localPath: file('bad3', 300), relPath: 'm/pdrgrid/b3-last', last: true },
      { localPath: file('bad4', 400), relPath: 'm/pdrgrid/b4-last', last: true },
    ];
    const err = (await st.storeMany(bad).catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/m\/pdrgrid\/taken/);
    const after = tree(d);
    expect(after.filter((f) => /b[34]-last/.test(f))).toEqual([]); // no last file after a failure
    expect(after.filter((f) => !ok.some((i) => i.relPath === f) && !/m\/pdrgrid\/b[02]$/.test(f))).toEqual([]); // no temp file
    for (const i of ok) expect(readFileSync(join(d, i.relPath)).length).toBe(sizes[Number(i.relPath.slice(-1))]); // nothing stored is lost
    expect(c.connects).toBe(1);
    await c.close();
  });

  it('a symlink on the server that leads out of the base is refused', async () => {
    const s = sshd as SshdServer;
    const d = join(s.storageDir, 'links');
    const outside = join(s.storageDir, 'outside');
    mkdirSync(d);
    mkdirSync(outside);
    chownSync(d, s.uid, s.gid);
    chownSync(outside, s.uid, s.gid);
    symlinkSync(outside, join(d, 'evil'));
    const a = join(src, 'sym');
    writeFileSync(a, 'x');
    const st = createStorage(settings({ baseDir: d }), { env: {} });
    await expect(st.store(a, 'evil/pdrgrid/a')).rejects.toThrow(/outside the storage base/);
    expect(readdirSync(outside)).toEqual([]);
  });
});

(noRclone ? describe.skip : describe)('rclone failures', () => {
  it('a remote with a secret in its connection string is refused, the secret masked', () => {
    expect(() => createStorage({ type: 'rclone', remote: ':sftp,host=h,pass=s3cr3tvalue:', baseDir: '/b', remotePathPrefix: null }, { env: {} })).toThrow(
      /carries pass; .*rclone\.conf/,
    );
    try {
      createStorage({ type: 'rclone', remote: ':sftp,host=h,pass=s3cr3tvalue:', baseDir: '/b', remotePathPrefix: null }, { env: {} });
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cr3tvalue');
    }
  });

  it('a remote missing from the config is a permanent error', async () => {
    const st = createStorage({ type: 'rclone', remote: 'nosuchremote:', baseDir: '/b', remotePathPrefix: null }, { env: { PATH: process.env.PATH, RCLONE_CONFIG: join(tmp, 'none.conf') } });
    const a = join(src, 'nr');
    writeFileSync(a, 'x');
    const err = (await st.store(a, 'm/pdrgrid/a').catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/nosuchremote/);
  });

  it('every call goes to one rclone daemon of the process (no credentials on its command line); it is started again after it died', async () => {
    const d = join(tmp, 'rclone-daemon');
    mkdirSync(d);
    const st = createStorage({ type: 'rclone', remote: ':local:', baseDir: d, remotePathPrefix: null }, { env: { PATH: process.env.PATH } });
    const a = join(src, 'rd');
    writeFileSync(a, 'daemon');
    await st.store(a, 'm/pdrgrid/a');
    await st.store(a, 'm/pdrgrid/b');
    const watchdogs = rcloneDaemonPids();
    expect(watchdogs.length).toBeGreaterThanOrEqual(1);
    const rclones = watchdogs.flatMap((w) =>
      execFileSync('pgrep', ['-P', String(w), '-a', 'rclone'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(' rcd ')),
    );
    expect(rclones.length).toBe(watchdogs.length);
    for (const l of rclones) expect(l).not.toMatch(/rc-user|rc-pass/);
    for (const l of rclones) process.kill(Number(l.split(' ')[0]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    // the first call after its death may fail (transient), the next one starts a new daemon
    const first = await st.store(a, 'm/pdrgrid/c').catch((e: unknown) => e);
    if (first instanceof Error) expect((first as StorageError).transient).toBe(true);
    expect((await st.store(a, 'm/pdrgrid/c')).size).toBe(6);
    expect(readFileSync(join(d, 'm/pdrgrid/c'), 'utf8')).toBe('daemon');
    expect(await st.list('m/pdrgrid')).toEqual(['a', 'b', 'c']);
  });

  it('the rclone daemon ends with its process, also when that process is killed with SIGKILL', async () => {
    const d = join(tmp, 'rclone-orphan');
    mkdirSync(d);
    const a = join(src, 'ro');
    writeFileSync(a, 'x');
    const script = `
      const s = require('@pdr/storage');
      const st = s.createStorage({ type: 'rclone', remote: ':local:', baseDir: ${JSON.stringify(d)}, remotePathPrefix: null }, {});
      st.store(${JSON.stringify(a)}, 'm/pdrgrid/a').then(() => { console.log(s.rcloneDaemonPids().join(' ')); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    const watchdog = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (t: string) => resolve(Number(t.trim().split(' ')[0])));
      child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    const rclone = Number(execFileSync('pgrep', ['-P', String(watchdog), 'rclone'], { encoding: 'utf8' }).trim());
    expect(rclone).toBeGreaterThan(0);
    child.kill('SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && (alive(rclone) || alive(watchdog)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(rclone)).toBe(false);
    expect(alive(watchdog)).toBe(false);
  });

  it('a missing rclone binary (PDR_RCLONE) is one permanent error naming it', async () => {
    const st = createStorage({ type: 'rclone', remote: ':local:', baseDir: join(tmp, 'nobin'), remotePathPrefix: null }, { env: { PATH: process.env.PATH, PDR_RCLONE: '/nonexistent/rclone' } });
    const a = join(src, 'nb');
    writeFileSync(a, 'x');
    const err = (await st.store(a, 'm/pdrgrid/a').catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(false);
    expect(err.message).toMatch(/rclone executable "\/nonexistent\/rclone" not found/);
  });

  it('permission denied on a local remote is permanent', async () => {
    const d = join(tmp, 'rclone-ro');
    mkdirSync(join(d, 'm', 'pdrgrid'), { recursive: true });
    const a = join(src, 'rp');
    writeFileSync(a, 'x');
    const st = createStorage({ type: 'rclone', remote: ':local:', baseDir: d, remotePathPrefix: null }, { env: { PATH: process.env.PATH } });
    // as root nothing is unwritable: a read-only bind is not available, so the "folder" is a file
    writeFileSync(join(d, 'm', 'blocked'), 'a file where a folder is expected');
    const err = (await st.store(a, 'm/blocked/a').catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.transient).toBe(false);
  });
});
