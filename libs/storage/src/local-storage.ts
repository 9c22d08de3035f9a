import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsync,
  lstatSync,
  mkdirSync,
  openSync,
  promises as fs,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { filesystemKind, type FilesystemKind } from './filesystem';
import * as path from 'node:path';
import type { StorageBackend, StoredFile, StoreItem } from './backend';
import pLimit from 'p-limit';
import { StorageError, StoragePathError, describeError } from './errors';
import { splitRelPath } from './paths';

/** Largest copy buffer: big outputs (HDF files of 100s of MB) stream in 1 MiB reads. */
const COPY_CHUNK = 1 << 20;
/**
 * Smallest copy buffer. A copy's buffer is sized to the file (up to COPY_CHUNK): a fresh 1 MiB buffer per
 * stored file (13 per job) was external memory the garbage collector chased at every job.
 */
const MIN_COPY_BUFFER = 4096;

/**
 * Files up to this size are copied with synchronous calls, and only the fsync goes through libuv's thread
 * pool. Every asynchronous fs call costs ~30-100 µs of CPU in thread-pool hand-offs (futex, eventfd, epoll)
 * on the 2-core VMs here, and a store was ~12 of them: ~1 ms of CPU per file, 13 files per job. Reading
 * and writing 1 MiB through the page cache blocks the event loop for well under a millisecond; larger
 * files (HDF outputs of 100s of MB) stream through the thread pool as before. Metadata calls (mkdir,
 * realpath, stat, rename) are synchronous for the same reason: microseconds each on a local disk.
 * All of this only when the storage base is on a local filesystem (`filesystemKind`): on NFS, Lustre or a
 * FUSE mount a synchronous call could block the runner's event loop — heartbeats included — for as long
 * as the server hangs, so there every call goes through the thread pool.
 */
const SMALL_FILE_BYTES = 1 << 20;

const fsyncFd = promisify(fsync);

/** Copies (and fsyncs) of one storeMany call at once: libuv's default thread pool has 4 threads. */
const PARALLEL_STORES = 4;
/** Temp files held open between copy and barrier in one storeMany group (a job has 13 + 5 per species). */
const STAGED_FILES = 64;

/** One file of a storeMany group between its copy and its rename. */
interface Staged {
  tmp: string;
  target: string;
  dir: string;
  renamed: boolean;
  /** Known after the copy (small files) or after the rename (large ones: the stored file's stat). */
  result: StoredFile | undefined;
  fail(reason: string, cause?: unknown): never;
  sync(): Promise<void>;
  /** After the rename: the stored file's size checked (large files). */
  verify(): Promise<void>;
  close(): Promise<void>;
}

function copyBuffer(sizeHint: number): Buffer {
  return Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(MIN_COPY_BUFFER, sizeHint + 1)));
}
/** Temp names used by `store`/`retrieve` while copying: `.<name>.tmp-<pid>-<12 hex>`. */
const TEMP_NAME = /^\..+\.tmp-\d+-[0-9a-f]{12}$/;

function isInside(base: string, p: string): boolean {
  const rel = path.relative(base, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function tempName(name: string): string {
  return `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Copy `src` to the new file `dst` (must not exist), hashing while copying. Returns `dst` still open and
 * not yet fsynced: the caller syncs a job's files together (LocalStorage.storeMany) and closes the handle.
 */
async function copyWithHash(src: string, dst: string, sizeHint: number): Promise<{ handle: FileHandle; size: number; sha256: string }> {
  const hash = createHash('sha256');
  const input = await fs.open(src, 'r');
  try {
    const output = await fs.open(dst, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644);
    try {
      const buf = copyBuffer(sizeHint);
      let size = 0;
      for (;;) {
        const { bytesRead } = await input.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        hash.update(chunk);
        let off = 0;
        while (off < bytesRead) {
          const { bytesWritten } = await output.write(chunk, off, bytesRead - off);
          off += bytesWritten;
        }
        size += bytesRead;
      }
      return { handle: output, size, sha256: hash.digest('hex') };
    } catch (err) {
      await output.close().catch(() => undefined);
      throw err;
    }
  } finally {
    await input.close();
  }
}

/** copyWithHash for a small file, with synchronous calls; also returns the copy's mtime. `fd` is open, not yet fsynced. */
function copySmallWithHash(src: string, dst: string): { fd: number; size: number; sha256: string; mtime: Date } {
  const data = readFileSync(src);
  const fd = openSync(dst, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    const st = fstatSync(fd);
    if (st.size !== data.length) throw new Error(`size after copy is ${st.size} bytes, expected ${data.length}`);
    return { fd, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), mtime: new Date(st.mtime.getTime()) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** SHA-256 hex of a file's content. */
export async function sha256File(file: string, sizeHint = COPY_CHUNK): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.open(file, 'r');
  try {
    const buf = copyBuffer(sizeHint);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The filesystem calls of a store, synchronous (local filesystems) or through the thread pool (others). */
interface Io {
  mkdir(p: string, recursive?: boolean): Promise<unknown>;
  realpath(p: string): Promise<string>;
  stat(p: string): Promise<import('node:fs').Stats>;
  lstat(p: string): Promise<import('node:fs').Stats>;
  rename(from: string, to: string): Promise<void>;
  unlink(p: string): Promise<void>;
  /** fsync of a directory; never fails (not supported everywhere; the rename itself is already atomic). */
  syncDir(dir: string): Promise<void>;
}

const SYNC_IO: Io = {
  mkdir: async (p, recursive = false) => mkdirSync(p, { recursive }),
  realpath: async (p) => realpathSync.native(p),
  stat: async (p) => statSync(p),
  lstat: async (p) => lstatSync(p),
  rename: async (from, to) => renameSync(from, to),
  unlink: async (p) => unlinkSync(p),
  syncDir: async (dir) => {
    try {
      const fd = openSync(dir, 'r');
      try {
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // see Io.syncDir
    }
  },
};

const ASYNC_IO: Io = {
  mkdir: (p, recursive = false) => fs.mkdir(p, { recursive }),
  realpath: (p) => fs.realpath(p),
  stat: (p) => fs.stat(p),
  lstat: (p) => fs.lstat(p),
  rename: (from, to) => fs.rename(from, to),
  unlink: (p) => fs.unlink(p),
  syncDir: async (dir) => {
    try {
      const h = await fs.open(dir, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    } catch {
      // see Io.syncDir
    }
  },
};

/**
 * Create the storage base one level at a time. Node's recursive mkdir loops forever (at 100 % CPU) under
 * /proc, where mkdir fails with ENOENT for a parent that stat reports as existing; and a base on procfs or
 * sysfs is a mistake anyway: refused at once, permanently, naming the filesystem.
 */
async function createBaseDir(baseDir: string): Promise<void> {
  const missing: string[] = [];
  let cur = baseDir;
  for (;;) {
    try {
      const st = await fs.stat(cur);
      if (!st.isDirectory()) {
        throw new StorageError(`cannot create storage base directory ${baseDir}: ${cur} is not a directory`, { transient: false });
      }
      break;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (errno(err) !== 'ENOENT') {
        throw new StorageError(`cannot create storage base directory ${baseDir}: ${describeError(err)}`, { cause: err });
      }
      missing.unshift(cur);
      const parent = path.dirname(cur);
      if (parent === cur) break;
      cur = parent;
    }
  }
  const kind = filesystemKind(cur);
  if (kind.pseudo) {
    throw new StorageError(`storage base directory ${baseDir} is on ${kind.name} (${cur}), a kernel pseudo filesystem that cannot hold files`, {
      transient: false,
    });
  }
  for (const dir of missing) {
    try {
      await fs.mkdir(dir);
    } catch (err) {
      if (errno(err) === 'EEXIST') continue;
      throw new StorageError(`cannot create storage base directory ${baseDir}: ${describeError(err)}`, { cause: err });
    }
  }
}

/**
 * Storage on a locally mounted filesystem (SPEC §6.2, with defects 11 and 25 fixed): the base must be
 * absolute, every path stays inside it even through symlinks, writes are atomic (temp file in the
 * target directory, fsync, rename) and every failure throws a `StorageError` naming the file.
 */
export class LocalStorage implements StorageBackend {
  readonly baseDir: string;
  private realBase: string | undefined;
  /**
   * Directories this instance created or checked (relative path → real path inside the base), confirmed
   * with one realpath per call (ensureDir). A runner keeps one instance per storage (createStorage).
   */
  private readonly checkedDirs = new Map<string, string>();
  /** The base's filesystem (known once the base was resolved) and the calls that suit it. */
  private fsKind: FilesystemKind | undefined;
  private io: Io = ASYNC_IO;

  /**
   * `syncCalls`: 'auto' (default) uses synchronous calls when the base is on a local filesystem; 'never'
   * sends every call through the thread pool (for a filesystem that claims to be local but is not, and
   * for tests of that path).
   */
  constructor(
    baseDir: string,
    private readonly opts: { syncCalls?: 'auto' | 'never' } = {},
  ) {
    if (typeof baseDir !== 'string' || baseDir === '' || baseDir.includes('\0')) {
      throw new StoragePathError(String(baseDir), 'local storage base directory must be a non-empty path');
    }
    if (!path.isAbsolute(baseDir)) {
      throw new StoragePathError(baseDir, 'local storage base directory must be absolute (resolve it once at startup)');
    }
    this.baseDir = path.resolve(baseDir);
  }

  describe(): string {
    return `local:${this.baseDir}`;
  }

  /**
   * Real path of the base; created (recursively) only when `create`. Undefined if missing. An instance is
   * kept across a runner's jobs (createStorage): the base resolved earlier is confirmed with one realpath
   * (synchronous on a local filesystem), and resolved (or created) again when it vanished or moved.
   */
  private async base(create: boolean): Promise<string | undefined> {
    if (this.realBase) {
      const known = this.realBase;
      if ((await this.io.realpath(this.baseDir).catch(() => null)) === known) return known;
      this.forget();
    }
    if (create) {
      await createBaseDir(this.baseDir);
    }
    try {
      const real = await fs.realpath(this.baseDir);
      const st = await fs.stat(real);
      if (!st.isDirectory()) throw new StorageError(`storage base ${this.baseDir} is not a directory`, { transient: false });
      this.fsKind = this.opts.syncCalls === 'never' ? { local: false, name: 'not checked (syncCalls: never)' } : filesystemKind(real);
      this.io = this.fsKind.local ? SYNC_IO : ASYNC_IO;
      this.realBase = real;
      return real;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (errno(err) === 'ENOENT') return undefined;
      throw new StorageError(`cannot access storage base directory ${this.baseDir}: ${describeError(err)}`, { cause: err });
    }
  }

  /** The base and the checked directories are resolved again at their next use (one vanished or moved). */
  private forget(): void {
    this.realBase = undefined;
    this.checkedDirs.clear();
  }

  private confine(realBase: string, real: string, relPath: string): void {
    if (!isInside(realBase, real)) {
      throw new StoragePathError(relPath, `resolves outside the storage base ${this.baseDir} (through a symlink)`);
    }
  }

  /**
   * Create the directories of `dirSegs` one level at a time, checking each stays inside the base. A
   * directory checked before (by an earlier call or job: the instance is kept) is confirmed with one
   * realpath — it still resolves to the same place inside the base — and checked (and created) again when
   * it vanished, moved or became a link. `seen`: the directories already confirmed in this call.
   */
  private async ensureDir(dirSegs: string[], relPath: string, seen?: Map<string, Promise<string>>): Promise<string> {
    const key = dirSegs.join('/');
    let p = seen?.get(key);
    if (!p) {
      p = this.confirmDir(key, dirSegs, relPath);
      seen?.set(key, p);
    }
    return p;
  }

  private async confirmDir(key: string, dirSegs: string[], relPath: string): Promise<string> {
    const known = this.checkedDirs.get(key);
    if (known) {
      const realBase = await this.base(true);
      if (realBase && this.checkedDirs.get(key) === known && (await this.io.realpath(path.join(realBase, ...dirSegs)).catch(() => null)) === known) return known;
      this.checkedDirs.delete(key);
    }
    const real = await this.createDir(dirSegs, relPath);
    this.checkedDirs.set(key, real);
    return real;
  }

  private async createDir(dirSegs: string[], relPath: string): Promise<string> {
    const realBase = (await this.base(true)) as string;
    let cur = realBase;
    for (const seg of dirSegs) {
      const next = path.join(cur, seg);
      try {
        await this.io.mkdir(next);
      } catch (err) {
        if (errno(err) !== 'EEXIST') {
          throw new StorageError(`cannot create directory ${next} for ${relPath}: ${describeError(err)}`, { cause: err });
        }
      }
      let real: string;
      try {
        real = await this.io.realpath(next);
      } catch (err) {
        throw new StorageError(`cannot resolve directory ${next} for ${relPath}: ${describeError(err)}`, { cause: err });
      }
      this.confine(realBase, real, relPath);
      const st = await this.io.stat(real);
      if (!st.isDirectory()) throw new StorageError(`cannot store ${relPath}: ${next} exists and is not a directory`, { transient: false });
      cur = real;
    }
    return cur;
  }

  /**
   * Resolve an existing path for reading: real path and stat, or null when any part is missing.
   * Symlinks are followed but must stay inside the base.
   */
  private async resolveExisting(segs: string[], relPath: string): Promise<{ real: string; st: import('node:fs').Stats } | null> {
    const realBase = await this.base(false);
    if (!realBase) return null;
    const full = path.join(realBase, ...segs);
    let real: string;
    try {
      real = await this.io.realpath(full);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return null;
      throw new StorageError(`cannot access ${relPath} in ${this.describe()}: ${describeError(err)}`, { cause: err });
    }
    this.confine(realBase, real, relPath);
    try {
      return { real, st: await this.io.stat(real) };
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      throw new StorageError(`cannot stat ${relPath} in ${this.describe()}: ${describeError(err)}`, { cause: err });
    }
  }

  async store(localPath: string, relPath: string): Promise<StoredFile> {
    return (await this.storeMany([{ localPath, relPath }]))[0];
  }

  /**
   * A job's files with ONE durability barrier instead of one per file: every file is copied to its temp
   * name beside its target (hashed, not yet durable), then all temp files are fsynced at once, then renamed
   * — the others first, their directories fsynced once, then the `last` ones (the files of the skip
   * check), their directories fsynced once. Nothing is returned as stored before its data, its inode and
   * its name are on disk. Before, each of a job's 13 files had its own fsync and directory fsync, four at
   * a time: on ext4 a quick job spent ~35 ms there, and every fsync held the directory and the inode
   * table against the next file's creation (docs/benchmarks.md). At most STAGED_FILES temp files are open
   * at once (a bigger call goes through in groups, the `last` files after every group of the others).
   */
  async storeMany(items: readonly StoreItem[]): Promise<StoredFile[]> {
    // a job's files (13 + 5 per species) fit in one group: one barrier for all, the last ones renamed after
    // the others are durable (one stage and one fsync round fewer per job than a group per batch)
    if (items.length <= STAGED_FILES) return this.storeGroup(items);
    const out = new Array<StoredFile>(items.length);
    for (const last of [false, true]) {
      const idx = items.map((it, i) => (Boolean(it.last) === last ? i : -1)).filter((i) => i >= 0);
      for (let k = 0; k < idx.length; k += STAGED_FILES) {
        const group = idx.slice(k, k + STAGED_FILES);
        const stored = await this.storeGroup(group.map((i) => items[i]));
        group.forEach((i, j) => (out[i] = stored[j]));
      }
    }
    return out;
  }

  /**
   * Stage, one barrier, then rename and one fsync per directory — the other files first, then the `last`
   * ones (when the group holds both). Every file is finished (or cleaned up) before it returns.
   */
  private async storeGroup(items: readonly StoreItem[]): Promise<StoredFile[]> {
    const limit = pLimit(PARALLEL_STORES);
    const staged = new Array<Staged | undefined>(items.length);
    let failure: { err: unknown } | null = null;
    const all = async (ps: Array<Promise<unknown>>): Promise<void> => {
      for (const r of await Promise.allSettled(ps)) if (r.status === 'rejected') failure ??= { err: r.reason };
    };
    const seen = new Map<string, Promise<string>>();
    try {
      await all(items.map((it, i) => limit(async () => (staged[i] = await this.stage(it.localPath, it.relPath, seen)))));
      if (!failure) await all(staged.map((st) => limit(() => (st as Staged).sync())));
      for (const last of [false, true]) {
        if (failure) break;
        const phase = (staged as Staged[]).filter((_, i) => Boolean(items[i].last) === last);
        if (phase.length === 0) continue;
        for (const st of phase) {
          await this.io.rename(st.tmp, st.target).catch((err) => st.fail(describeError(err), err));
          st.renamed = true;
        }
        await Promise.all([...new Set(phase.map((st) => st.dir))].map((dir) => this.io.syncDir(dir)));
        await all(phase.map((st) => limit(() => st.verify())));
      }
    } catch (err) {
      failure ??= { err };
    } finally {
      for (const st of staged) {
        if (!st) continue;
        await st.close();
        if (!st.renamed) await this.io.unlink(st.tmp).catch(() => undefined);
      }
    }
    if (failure) {
      const err = (failure as { err: unknown }).err;
      if (err instanceof StorageError) throw err;
      throw new StorageError(`cannot store in ${this.describe()}: ${describeError(err)}`, { cause: err });
    }
    return (staged as Staged[]).map((st) => st.result as StoredFile);
  }

  /** Copy one file to a temp name beside its target, hashing it; the fsync and the rename are the caller's. */
  private async stage(localPath: string, relPath: string, seen?: Map<string, Promise<string>>): Promise<Staged> {
    const segs = splitRelPath(relPath);
    const rel = segs.join('/');
    const fail = (reason: string, cause?: unknown): never => {
      throw new StorageError(`cannot store ${localPath} as ${rel} in ${this.describe()}: ${reason}`, { cause, transient: cause === undefined ? false : undefined });
    };
    if (typeof localPath !== 'string' || !path.isAbsolute(localPath)) fail('the local path must be absolute');
    let sourceSize = 0;
    try {
      // the source is the runner's local scratch; read synchronously (as copySmallWithHash does) when the
      // storage is local too, else through the thread pool
      const st = this.fsKind?.local ? statSync(localPath) : await fs.stat(localPath);
      if (!st.isFile()) fail('the local path is not a regular file');
      sourceSize = st.size;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      fail(describeError(err), err);
    }
    const dir = await this.ensureDir(segs.slice(0, -1), rel, seen);
    const name = segs[segs.length - 1];
    const target = path.join(dir, name);
    try {
      const existing = await this.io.lstat(target);
      if (existing.isDirectory()) fail(`${target} is a directory`);
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (errno(err) !== 'ENOENT') fail(describeError(err), err);
    }
    const tmp = path.join(dir, tempName(name));
    const fullPath = path.join(this.baseDir, ...segs);
    const staged: Staged = {
      tmp,
      target,
      dir,
      renamed: false,
      result: undefined,
      fail: (reason, cause) => fail(reason, cause),
      sync: async () => undefined,
      verify: async () => undefined,
      close: async () => undefined,
    };
    try {
      if (sourceSize <= SMALL_FILE_BYTES && this.fsKind?.local) {
        const { fd, size, sha256, mtime } = copySmallWithHash(localPath, tmp);
        let open = true;
        staged.result = { relPath: rel, fullPath, size, mtime, sha256 };
        staged.sync = () => fsyncFd(fd).catch((err) => fail(describeError(err), err));
        staged.close = async () => {
          if (open) closeSync(fd);
          open = false;
        };
        return staged;
      }
      const { handle, size, sha256 } = await copyWithHash(localPath, tmp, sourceSize);
      let open = true;
      staged.sync = () => handle.sync().catch((err) => fail(describeError(err), err));
      staged.close = async () => {
        if (open) await handle.close().catch(() => undefined);
        open = false;
      };
      staged.verify = async () => {
        const st = await fs.stat(target).catch((err) => fail(describeError(err), err));
        if (st.size !== size) fail(`size after copy is ${st.size} bytes, expected ${size}`);
        staged.result = { relPath: rel, fullPath, size, mtime: new Date(st.mtime.getTime()), sha256 };
      };
      return staged;
    } catch (err) {
      await this.io.unlink(tmp).catch(() => undefined); // not created
      if (err instanceof StorageError) throw err;
      return fail(describeError(err), err);
    }
  }

  async remove(relPath: string): Promise<void> {
    const segs = splitRelPath(relPath);
    const rel = segs.join('/');
    const found = await this.resolveExisting(segs, rel);
    if (!found) return;
    if (!found.st.isFile()) throw new StorageError(`cannot remove ${rel} in ${this.describe()}: not a regular file`, { transient: false });
    try {
      await fs.unlink(found.real);
    } catch (err) {
      if (errno(err) === 'ENOENT') return;
      throw new StorageError(`cannot remove ${rel} in ${this.describe()}: ${describeError(err)}`, { cause: err });
    }
  }

  async retrieve(relPath: string, localPath: string): Promise<void> {
    const segs = splitRelPath(relPath);
    const rel = segs.join('/');
    const fail = (reason: string, cause?: unknown): never => {
      throw new StorageError(`cannot retrieve ${rel} from ${this.describe()} to ${localPath}: ${reason}`, { cause, transient: cause === undefined ? false : undefined });
    };
    if (typeof localPath !== 'string' || !path.isAbsolute(localPath)) fail('the local path must be absolute');
    const found = await this.resolveExisting(segs, rel);
    if (!found) return fail('no such file in storage');
    if (!found.st.isFile()) return fail('not a regular file');
    const dir = path.dirname(localPath);
    const tmp = path.join(dir, tempName(path.basename(localPath)));
    try {
      await fs.mkdir(dir, { recursive: true });
      // a copy into the job's scratch directory: no fsync (the job directory is not kept across a crash)
      await (await copyWithHash(found.real, tmp, found.st.size)).handle.close();
      await fs.rename(tmp, localPath);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      fail(describeError(err), err);
    }
  }

  async exists(relPath: string): Promise<boolean> {
    const segs = splitRelPath(relPath);
    const found = await this.resolveExisting(segs, segs.join('/'));
    return found !== null && found.st.isFile();
  }

  async stat(relPath: string): Promise<StoredFile | null> {
    const segs = splitRelPath(relPath);
    const rel = segs.join('/');
    const found = await this.resolveExisting(segs, rel);
    if (!found || !found.st.isFile()) return null;
    try {
      const sha256 = await sha256File(found.real, found.st.size);
      return { relPath: rel, fullPath: path.join(this.baseDir, ...segs), size: found.st.size, mtime: new Date(found.st.mtime.getTime()), sha256 };
    } catch (err) {
      throw new StorageError(`cannot read ${rel} in ${this.describe()}: ${describeError(err)}`, { cause: err });
    }
  }

  async list(relDir: string): Promise<string[]> {
    const segs = splitRelPath(relDir, true);
    const rel = segs.join('/');
    const found = await this.resolveExisting(segs, rel);
    if (!found) return [];
    if (!found.st.isDirectory()) throw new StorageError(`cannot list ${rel} in ${this.describe()}: not a directory`, { transient: false });
    try {
      const entries = await fs.readdir(found.real, { withFileTypes: true });
      const names: string[] = [];
      for (const e of entries) {
        if (TEMP_NAME.test(e.name)) continue;
        let isDir = e.isDirectory();
        if (e.isSymbolicLink()) {
          isDir = await fs.stat(path.join(found.real, e.name)).then((s) => s.isDirectory(), () => false);
        }
        names.push(isDir ? `${e.name}/` : e.name);
      }
      return names.sort();
    } catch (err) {
      throw new StorageError(`cannot list ${rel} in ${this.describe()}: ${describeError(err)}`, { cause: err });
    }
  }
}
