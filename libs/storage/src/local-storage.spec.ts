import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filesystemKind, LocalStorage, StorageError, StoragePathError } from './index';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

// statfs magic numbers are Linux's; elsewhere every filesystem counts as remote (all calls asynchronous)
(process.platform === 'linux' ? describe : describe.skip)('filesystemKind (Linux)', () => {
  it('tells local filesystems from others', () => {
    expect(filesystemKind('/dev/shm')).toEqual({ local: true, name: 'tmpfs' });
    expect(filesystemKind('/proc')).toEqual({ local: false, name: 'procfs', pseudo: true });
    expect(filesystemKind('/no/such/dir')).toEqual({ local: false, name: 'unknown' });
  });
});

// every behaviour with the synchronous calls of a local filesystem ('auto' here) and through the thread pool
describe.each([['auto'], ['never']] as const)('LocalStorage (syncCalls: %s)', (syncCalls) => {
  let tmp: string;
  let base: string;
  let src: string;
  let storage: LocalStorage;

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-storage-'));
    base = path.join(tmp, 'store', 'base');
    src = path.join(tmp, 'src.txt');
    await fs.writeFile(src, 'hello pdr\n');
    storage = new LocalStorage(base, { syncCalls });
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('requires an absolute base directory', () => {
    expect(() => new LocalStorage('relative/base')).toThrow(StoragePathError);
    expect(() => new LocalStorage('relative/base')).toThrow(/relative\/base.*absolute/);
    expect(() => new LocalStorage('')).toThrow(StoragePathError);
  });

  it('stores a file atomically with size, mtime and sha256, creating the base and parents', async () => {
    const stored = await storage.store(src, 'mymodel/pdrgrid/pdr100_30_-10_10_00.hdf');
    expect(stored).toEqual({
      relPath: 'mymodel/pdrgrid/pdr100_30_-10_10_00.hdf',
      fullPath: path.join(base, 'mymodel/pdrgrid/pdr100_30_-10_10_00.hdf'),
      size: 10,
      mtime: expect.any(Date),
      sha256: sha('hello pdr\n'),
    });
    expect(await fs.readFile(stored.fullPath, 'utf8')).toBe('hello pdr\n');
    // no temp files are left behind
    expect(await fs.readdir(path.join(base, 'mymodel/pdrgrid'))).toEqual(['pdr100_30_-10_10_00.hdf']);
  });

  it('stores many files into one directory at once, each complete, sizes across the copy buffer bounds', async () => {
    const sizes = [0, 1, 4095, 4096, 4097, 100_000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7];
    const files = await Promise.all(
      sizes.map(async (n, i) => {
        const data = Buffer.alloc(n, i + 1);
        const f = path.join(tmp, `src${i}`);
        await fs.writeFile(f, data);
        return { f, n, hash: createHash('sha256').update(data).digest('hex') };
      }),
    );
    const stored = await Promise.all(files.map((x, i) => storage.store(x.f, `m/pdrgrid/f${i}`)));
    for (const [i, st] of stored.entries()) {
      expect({ size: st.size, sha256: st.sha256 }).toEqual({ size: files[i].n, sha256: files[i].hash });
      expect(createHash('sha256').update(await fs.readFile(st.fullPath)).digest('hex')).toBe(files[i].hash);
      expect((await storage.stat(`m/pdrgrid/f${i}`))?.sha256).toBe(files[i].hash);
    }
    expect((await fs.readdir(path.join(base, 'm/pdrgrid'))).sort()).toEqual(sizes.map((_, i) => `f${i}`).sort());
  });

  it('storeMany: one call stores every file (small and streamed, several directories), the last ones after the others', async () => {
    const big = path.join(tmp, 'big');
    await fs.writeFile(big, Buffer.alloc((1 << 20) + 5, 7));
    const items = [
      { localPath: src, relPath: 'm/pdrgrid/a' },
      { localPath: big, relPath: 'm/oniongrid/b', last: true },
      { localPath: src, relPath: 'm/pdrgrid/c' },
      { localPath: big, relPath: 'm/pdrgrid/d' },
    ];
    const stored = await storage.storeMany(items);
    expect(stored.map((s) => [s.relPath, s.size])).toEqual([
      ['m/pdrgrid/a', 10],
      ['m/oniongrid/b', (1 << 20) + 5],
      ['m/pdrgrid/c', 10],
      ['m/pdrgrid/d', (1 << 20) + 5],
    ]);
    expect(await fs.readdir(path.join(base, 'm/pdrgrid'))).toEqual(['a', 'c', 'd']); // no temp files left
    expect(await fs.readdir(path.join(base, 'm/oniongrid'))).toEqual(['b']);
  });

  it('storeMany: a file that cannot be stored stores none of its group, leaves no temp file, and the last files stay unstored', async () => {
    const items = [
      { localPath: src, relPath: 'm/pdrgrid/a' },
      { localPath: path.join(tmp, 'missing'), relPath: 'm/pdrgrid/b' },
      { localPath: src, relPath: 'm/pdrgrid/z', last: true },
    ];
    await expect(storage.storeMany(items)).rejects.toThrow(StorageError);
    await expect(storage.storeMany(items)).rejects.toThrow(/missing as m\/pdrgrid\/b/);
    expect(await fs.readdir(path.join(base, 'm/pdrgrid'))).toEqual([]);
  });

  // one instance serves all of a runner's jobs (createStorage keeps it): what it checked once may change
  it('a kept instance creates a folder again that vanished between two stores, and the base too', async () => {
    await storage.storeMany([{ localPath: src, relPath: 'm/pdrgrid/a' }, { localPath: src, relPath: 'm/oniongrid/b', last: true }]);
    await fs.rm(path.join(base, 'm', 'pdrgrid'), { recursive: true });
    await storage.storeMany([{ localPath: src, relPath: 'm/pdrgrid/c' }, { localPath: src, relPath: 'm/oniongrid/d', last: true }]);
    expect(await fs.readdir(path.join(base, 'm/pdrgrid'))).toEqual(['c']);
    expect((await fs.readdir(path.join(base, 'm/oniongrid'))).sort()).toEqual(['b', 'd']);
    await fs.rm(path.join(tmp, 'store'), { recursive: true });
    expect(await storage.exists('m/pdrgrid/c')).toBe(false);
    const stored = await storage.store(src, 'm/pdrgrid/e');
    expect(stored.size).toBe(10);
    expect(await fs.readdir(path.join(base, 'm/pdrgrid'))).toEqual(['e']);
  });

  it('a kept instance follows a base that moved and was replaced (stores land in the new base)', async () => {
    await storage.store(src, 'm/pdrgrid/a');
    await fs.rename(path.join(tmp, 'store'), path.join(tmp, 'old-store'));
    await fs.mkdir(base, { recursive: true });
    await storage.store(src, 'm/pdrgrid/b');
    expect(await fs.readdir(path.join(base, 'm/pdrgrid'))).toEqual(['b']);
    expect(await fs.readdir(path.join(tmp, 'old-store/base/m/pdrgrid'))).toEqual(['a']);
    expect(await storage.exists('m/pdrgrid/a')).toBe(false);
  });

  it('overwrites an existing stored file', async () => {
    await storage.store(src, 'm/pdrgrid/a');
    await fs.writeFile(src, 'second');
    const again = await storage.store(src, 'm/pdrgrid/a');
    expect(again.sha256).toBe(sha('second'));
    expect(await fs.readFile(path.join(base, 'm/pdrgrid/a'), 'utf8')).toBe('second');
  });

  it('stat, exists, retrieve and list', async () => {
    await storage.store(src, 'm/pdrgrid/a.hdf');
    await fs.mkdir(path.join(base, 'm/pdrgrid/sub'));
    expect(await storage.exists('m/pdrgrid/a.hdf')).toBe(true);
    expect(await storage.exists('m/pdrgrid/missing')).toBe(false);
    expect(await storage.exists('m/pdrgrid/sub')).toBe(false); // directories are not files
    expect(await storage.exists('nomodel/pdrgrid/x')).toBe(false);
    const st = await storage.stat('m/pdrgrid/a.hdf');
    expect(st).toMatchObject({ relPath: 'm/pdrgrid/a.hdf', size: 10, sha256: sha('hello pdr\n') });
    expect(await storage.stat('m/pdrgrid/missing')).toBeNull();
    expect(await storage.list('m/pdrgrid')).toEqual(['a.hdf', 'sub/']);
    expect(await storage.list('')).toEqual(['m/']);
    expect(await storage.list('m/nothing')).toEqual([]);
    const out = path.join(tmp, 'out', 'deep', 'a.hdf');
    await storage.retrieve('m/pdrgrid/a.hdf', out);
    expect(await fs.readFile(out, 'utf8')).toBe('hello pdr\n');
  });

  it('reports a missing base as empty, not as an error', async () => {
    expect(await storage.exists('m/x')).toBe(false);
    expect(await storage.list('')).toEqual([]);
    expect(await storage.stat('m/x')).toBeNull();
  });

  it('throws StorageError naming the file for a missing source or a missing stored file', async () => {
    await expect(storage.store(path.join(tmp, 'nope.txt'), 'm/a')).rejects.toThrow(StorageError);
    await expect(storage.store(path.join(tmp, 'nope.txt'), 'm/a')).rejects.toThrow(/nope\.txt.*ENOENT/);
    await expect(storage.store('relative.txt', 'm/a')).rejects.toThrow(/must be absolute/);
    await expect(storage.store(tmp, 'm/a')).rejects.toThrow(/not a regular file/);
    await expect(storage.retrieve('m/none', path.join(tmp, 'x'))).rejects.toThrow(/m\/none.*no such file/);
  });

  it('fails with StorageError (never a boolean) when a parent is a file or the target a directory', async () => {
    await storage.store(src, 'm/pdrgrid');
    await expect(storage.store(src, 'm/pdrgrid/b')).rejects.toThrow(/cannot store m\/pdrgrid\/b: .*m\/pdrgrid exists and is not a directory/);
    await fs.mkdir(path.join(base, 'm/dir'));
    await expect(storage.store(src, 'm/dir')).rejects.toThrow(StorageError);
    await expect(storage.store(src, 'm/dir')).rejects.toThrow(/m\/dir is a directory/);
  });

  it('fails with a permanent StorageError (never a boolean) when the target directory is not writable', async () => {
    await storage.store(src, 'm/pdrgrid/a');
    await fs.chmod(path.join(base, 'm/pdrgrid'), 0o555);
    try {
      if (process.getuid?.() !== 0) {
        const err = (await storage.store(src, 'm/pdrgrid/b').catch((e: unknown) => e)) as StorageError;
        expect(err.message).toMatch(/cannot store .*m\/pdrgrid\/b.*EACCES/);
        expect(err.transient).toBe(false);
        return;
      }
      // root writes anywhere: the store runs as the unprivileged user nobody in a child process (built library)
      const dist = path.resolve(__dirname, '../dist/index.js');
      expect(existsSync(dist)).toBe(true);
      await fs.chmod(tmp, 0o755);
      const script = `const { LocalStorage } = require(${JSON.stringify(dist)});
        new LocalStorage(${JSON.stringify(base)}, { syncCalls: ${JSON.stringify(syncCalls)} }).store(${JSON.stringify(src)}, 'm/pdrgrid/b').then(
          () => console.log(JSON.stringify({ stored: true })),
          (e) => console.log(JSON.stringify({ name: e.name, message: e.message, transient: e.transient })));`;
      const out = execFileSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: '/' }).toString();
      const r = JSON.parse(out);
      expect(r).toMatchObject({ name: 'StorageError', transient: false });
      expect(r.message).toMatch(/cannot store .*m\/pdrgrid\/b.*EACCES/);
    } finally {
      await fs.chmod(path.join(base, 'm/pdrgrid'), 0o755);
    }
  });

  it('refuses a base under /proc at once (no spinning), permanently', async () => {
    const proc = new LocalStorage('/proc/pdr_storage_test', { syncCalls });
    const err = (await proc.store(src, 'm/a').catch((e: unknown) => e)) as StorageError;
    expect(err.message).toMatch(/\/proc\/pdr_storage_test is on procfs/);
    expect(err.transient).toBe(false);
  });

  describe('path confinement', () => {
    const bad: Array<[string, RegExp]> = [
      ['../escape', /"\.\." segment/],
      ['m/../../escape', /"\.\." segment/],
      ['/etc/passwd', /absolute/],
      ['m//a', /empty segment/],
      ['m/a/', /empty segment/],
      ['./m/a', /"\." segment/],
      ['m/a\0b', /NUL/],
      ['m\\..\\a', /contains "\\"/],
      ['', /must not be empty/],
    ];
    it.each(bad)('rejects %j', async (rel, why) => {
      await expect(storage.store(src, rel)).rejects.toThrow(StoragePathError);
      await expect(storage.store(src, rel)).rejects.toThrow(why);
      await expect(storage.exists(rel)).rejects.toThrow(StoragePathError);
      await expect(storage.retrieve(rel, path.join(tmp, 'r'))).rejects.toThrow(StoragePathError);
    });

    it('never writes through a symlinked directory that leaves the base', async () => {
      const outside = path.join(tmp, 'outside');
      await fs.mkdir(outside);
      await fs.mkdir(base, { recursive: true });
      await fs.symlink(outside, path.join(base, 'evil'));
      await expect(storage.store(src, 'evil/pdrgrid/a')).rejects.toThrow(/evil\/pdrgrid\/a.*outside the storage base/);
      expect(await fs.readdir(outside)).toEqual([]);
      await fs.writeFile(path.join(outside, 'secret'), 'x');
      await expect(storage.exists('evil/secret')).rejects.toThrow(StoragePathError);
      await expect(storage.retrieve('evil/secret', path.join(tmp, 'r'))).rejects.toThrow(StoragePathError);
    });

    it('a kept instance never writes through a checked folder later replaced by a link out of the base', async () => {
      await storage.store(src, 'm/pdrgrid/a');
      const outside = path.join(tmp, 'outside');
      await fs.mkdir(outside);
      await fs.rename(path.join(base, 'm', 'pdrgrid'), path.join(tmp, 'moved'));
      await fs.symlink(outside, path.join(base, 'm', 'pdrgrid'));
      await expect(storage.store(src, 'm/pdrgrid/b')).rejects.toThrow(/m\/pdrgrid\/b.*outside the storage base/);
      expect(await fs.readdir(outside)).toEqual([]);
    });

    it('does not follow a symlinked file out of the base on read', async () => {
      await fs.mkdir(path.join(base, 'm'), { recursive: true });
      await fs.symlink(src, path.join(base, 'm', 'link'));
      await expect(storage.stat('m/link')).rejects.toThrow(/outside the storage base/);
    });

    it('accepts symlinks that stay inside the base', async () => {
      await storage.store(src, 'real/pdrgrid/a');
      await fs.symlink(path.join(base, 'real'), path.join(base, 'alias'));
      expect(await storage.exists('alias/pdrgrid/a')).toBe(true);
      const stored = await storage.store(src, 'alias/pdrgrid/b');
      expect(stored.size).toBe(10);
      expect(await storage.exists('real/pdrgrid/b')).toBe(true);
    });
  });
});
