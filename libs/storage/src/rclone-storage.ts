import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StorageBackend, StorageProbe, StoredFile, StoredHead, StoreItem } from './backend';
import { StorageError, describeError } from './errors';
import { mapBounded } from './bounded';
import { rcloneDaemon, type RcloneDaemon, type RcReply } from './rclone-daemon';
import { splitRelPath } from './paths';

/**
 * Parameters of an rclone connection string that hold secrets (`:sftp,pass=…:`, `s3,secret_access_key=…`):
 * such a remote would put the secret into the grid's database row and every log line naming the remote.
 */
const SECRET_PARAM = /pass|secret|token|key_pem|private_key|api_key|password|credentials|sas_url|service_account/i;

/** pdr_run's `rclone_remote` split on the first `:` outside quotes: `name:` / `name:base/path` / `:sftp,host=h:base`. */
export function splitRcloneRemote(remote: string): { name: string; basePath: string } {
  let quote: string | null = null;
  for (let i = 0; i < remote.length; i++) {
    const ch = remote[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === ':' && i > 0) {
      return { name: remote.slice(0, i), basePath: remote.slice(i + 1) };
    }
  }
  throw new StorageError(`storage.rclone_remote ${JSON.stringify(remote)}: no ":" after the remote name (write "name:" or "name:base/path")`, {
    transient: false,
  });
}

/** Names of the secret parameters in an rclone remote's connection string (empty: none). */
export function rcloneRemoteSecrets(remote: string): string[] {
  const { name } = splitRcloneRemote(remote);
  const params = name.split(',').slice(1);
  return params.map((p) => p.split('=')[0].trim()).filter((k) => SECRET_PARAM.test(k));
}

/** The remote with the values of secret parameters masked (for messages about a refused remote). */
export function maskRcloneRemote(remote: string): string {
  return remote.replace(/([,:]\s*)([A-Za-z0-9_]+)\s*=\s*("[^"]*"|'[^']*'|[^,:]*)/g, (all, sep: string, key: string) =>
    SECRET_PARAM.test(key) ? `${sep}${key}=***` : all,
  );
}

/**
 * pdr_run's path mapping with its defect fixed: `remote_path_prefix` is removed only on a path boundary
 * (`/data/run` strips `/data/run/x` and `/data/run` but not `/data/run2/x`), then leading `/`s; the rest
 * goes under the remote's base path (`name:base/<p>`), or at the remote's root (`name:/<p>`) without one.
 */
export function rcloneRemotePath(remote: string, prefix: string | null | undefined, p: string): string {
  const { name, basePath } = splitRcloneRemote(remote);
  let rest = p;
  if (prefix) {
    const pre = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
    if (rest === pre) rest = '';
    else if (rest.startsWith(pre.endsWith('/') ? pre : `${pre}/`)) rest = rest.slice(pre.length);
  }
  rest = rest.replace(/^\/+/, '');
  if (basePath) return rest ? `${name}:${basePath.replace(/\/+$/, '')}/${rest}` : `${name}:${basePath}`;
  return rest ? `${name}:/${rest}` : `${name}:`;
}

export interface RcloneOptions {
  /** pdr_run's rclone_remote: `name:` or `name:base/path`; no secret parameters. */
  remote: string;
  /** The storage base as pdr_run builds paths from it (`<base_dir>/<model>/…`). */
  baseDir: string;
  remotePathPrefix?: string | null;
  /** The rclone executable (PDR_RCLONE on the runner, default `rclone` from PATH). */
  binary?: string;
  /** Longest one rclone call may take before it is killed (transient failure). */
  callTimeoutMs: number;
  /** Extra time per byte moved by a call: 1 / STORAGE_MIN_BYTES_PER_S. */
  msPerByte: number;
  /** Environment of rclone (RCLONE_CONFIG_* remotes); default the runner's own. */
  env?: NodeJS.ProcessEnv;
  /** Files of one storeMany in flight at once (copies and moves in the runner's rclone daemon). */
  transfers: number;
}

const PERMANENT_TEXT =
  /permission denied|access denied|read-only file system|no space left|disk quota|quota exceeded|unable to authenticate|authentication failed|handshake failed: ssh: unable|didn't find section in config|couldn't find (root|remote)|unknown backend|failed to create file system|not a directory|is a directory|ssh: host key mismatch|knownhosts: key (mismatch|is unknown)|invalid|no such host|not found \(install rclone/i;
const TRANSIENT_TEXT = /connection refused|connection reset|broken pipe|i\/o timeout|timed out|timeout|EOF|no route to host|network is unreachable|temporar|try again|connection lost|unreachable/i;

/**
 * Options of the runner's rclone daemon (every call of this backend goes through it): one low-level retry
 * inside rclone (retries are ours: the job's nak path), short connection timeouts, and `--ignore-times` so a
 * move replaces a stored file of the same size and time (a re-run's output) instead of keeping it.
 */
const DAEMON_FLAGS = ['--low-level-retries', '2', '--contimeout', '15s', '--timeout', '60s', '--ignore-times'];

const tempTag = (): string => `${process.pid}-${randomBytes(6).toString('hex')}`;
/** The per-batch upload folder (`.pdr-upload-<pid>-<12 hex>`) and file temp names hidden from list(). */
const HIDDEN = /^\.(pdr-upload-\d+-[0-9a-f]{12}\/?|.+\.tmp-\d+-[0-9a-f]{12})$/;

async function hashLocal(file: string): Promise<{ size: number; sha256: string; mtime: Date }> {
  const sha = createHash('sha256');
  const h = await fs.open(file, 'r');
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new StorageError(`${file} is not a regular file`, { transient: false });
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(4096, st.size + 1)));
    let size = 0;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      sha.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { size, sha256: sha.digest('hex'), mtime: st.mtime };
  } finally {
    await h.close();
  }
}


/** A file's metadata as rclone's `operations/stat` gives it. */
interface LsjsonEntry {
  Path: string;
  Name: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  Hashes?: Record<string, string>;
}

/**
 * Storage through the rclone binary (SPEC §6.4 with defect 25 fixed): `remote_path_prefix` stripped on a path
 * boundary, every error honoured (pdr_run's returned booleans nobody checked). Every call is one request to
 * the runner's `rclone rcd` (rclone-daemon.ts: spawned once, without a shell), so remotes and their SSH
 * connections are kept between calls and jobs — one rclone process per call paid an SSH handshake each.
 * A store: `operations/copyfile` of each file to a temp name beside its final one (`.<name>.tmp-<pid>-<hex>`),
 * where rclone itself verifies the upload's size and, where source and remote share a hash, its hash: MD5 on
 * sftp remotes (computed on the server with `md5sum` when the account has a shell; size only where it has
 * none) and on local remotes; then `operations/movefile` onto the final name, a server-side rename on sftp
 * and local remotes (rclone removes an existing file of that name just before: the name is briefly absent,
 * never half-written). The files of a job go `transfers` at once; the `last` ones are moved after all others.
 * SHA-256 is computed locally of the bytes sent (a remote SHA-256 would cost a second transfer).
 */
export class RcloneStorage implements StorageBackend {
  private readonly binary: string;
  private readonly daemon: RcloneDaemon;

  constructor(private readonly o: RcloneOptions) {
    splitRcloneRemote(o.remote); // throws a clear error for a remote without ":"
    const secrets = rcloneRemoteSecrets(o.remote);
    if (secrets.length) {
      throw new StorageError(
        `storage.rclone_remote ${maskRcloneRemote(o.remote)}: carries ${secrets.join(', ')}; put secrets in the runners' rclone.conf or RCLONE_CONFIG_* variables`,
        { transient: false },
      );
    }
    this.binary = o.binary || 'rclone';
    this.daemon = rcloneDaemon(this.binary, o.env ?? process.env, DAEMON_FLAGS);
  }

  describe(): string {
    return `rclone:${this.remotePath('')}`;
  }

  /** Remote path of a storage-relative path (`''` = the base). */
  remotePath(rel: string): string {
    return rcloneRemotePath(this.o.remote, this.o.remotePathPrefix, rel ? path.posix.join(this.o.baseDir, rel) : this.o.baseDir);
  }

  /** The remote folder of a file (an rclone fs) and its name in it. */
  private split(rel: string): { fs: string; name: string; segs: string[] } {
    const segs = splitRelPath(rel);
    if (segs.length < 2) throw new StorageError(`${segs.join('/')} in ${this.describe()}: files live below a model folder`, { transient: false });
    return { fs: this.remotePath(segs.slice(0, -1).join('/')), name: segs[segs.length - 1], segs };
  }

  /** Folders this instance made (or found) already: a job's files go to a few folders of one model. */
  private readonly folders = new Set<string>();

  /**
   * The files' folders, made one after the other before the copies start. rclone's copyfile makes a missing
   * parent itself, but two copies into sibling folders of a new model folder then race to make the parent,
   * and on sftp the loser fails (`mkdir … failed: sftp: "Failure"`). A second mkdir after a failure finds
   * the folder another runner made meanwhile.
   */
  private async ensureFolders(items: ReadonlyArray<{ dirFs: string; rel: string }>): Promise<void> {
    for (const it of items) {
      if (this.folders.has(it.dirFs)) continue;
      let r = await this.call('operations/mkdir', { fs: it.dirFs, remote: '' });
      if (!r.ok) r = await this.call('operations/mkdir', { fs: it.dirFs, remote: '' });
      if (!r.ok) throw this.failure(`cannot make the folder of ${it.rel}`, r);
      this.folders.add(it.dirFs);
    }
  }

  private call(method: string, params: Record<string, unknown>, bytes = 0): Promise<RcReply> {
    return this.daemon.call(method, params, this.o.callTimeoutMs + Math.ceil(bytes * this.o.msPerByte));
  }

  /** A failed rclone call as a StorageError: rclone's error text, transient or permanent. */
  private failure(what: string, r: Extract<RcReply, { ok: false }>): StorageError {
    const text = r.error.replace(/\s+/g, ' ').trim().slice(0, 600) || `HTTP ${r.status}`;
    let transient: boolean;
    if (r.timedOut) transient = true;
    else if (r.noBinary) transient = false;
    else if (PERMANENT_TEXT.test(text)) transient = false;
    else if (TRANSIENT_TEXT.test(text)) transient = true;
    else transient = true;
    const why = r.timedOut ? `rclone did not answer in time (${text})` : `rclone: ${text}`;
    return new StorageError(`${what} (${this.describe()}): ${why}`, { transient });
  }

  private static notFound(r: RcReply): boolean {
    return !r.ok && (r.status === 404 || /object not found|directory not found|not found$/i.test(r.error));
  }

  async store(localPath: string, relPath: string): Promise<StoredFile> {
    return (await this.storeMany([{ localPath, relPath }]))[0];
  }

  async storeMany(items: readonly StoreItem[]): Promise<StoredFile[]> {
    if (items.length === 0) return [];
    const prepared = await Promise.all(
      items.map(async (it) => {
        const { fs: dirFs, name, segs } = this.split(it.relPath);
        const rel = segs.join('/');
        if (typeof it.localPath !== 'string' || !path.isAbsolute(it.localPath)) {
          throw new StorageError(`cannot store ${it.localPath} as ${rel} in ${this.describe()}: the local path must be absolute`, { transient: false });
        }
        try {
          // the real path: rclone's local backend does not follow a symlink it is given
          const real = await fs.realpath(it.localPath);
          return { ...it, rel, dirFs, name, real, local: await hashLocal(real) };
        } catch (err) {
          throw new StorageError(`cannot store ${it.localPath} as ${rel} in ${this.describe()}: ${describeError(err)}`, { cause: err, transient: false });
        }
      }),
    );
    const seen = new Set<string>();
    for (const p of prepared) {
      if (seen.has(p.rel)) throw new StorageError(`cannot store ${p.rel} twice in one call`, { transient: false });
      seen.add(p.rel);
    }
    await this.ensureFolders(prepared);
    const temps = new Array<string | undefined>(prepared.length);
    const out = new Array<StoredFile>(prepared.length);
    let failed = false;
    const move = async (i: number): Promise<void> => {
      const p = prepared[i];
      const r = await this.call('operations/movefile', { srcFs: p.dirFs, srcRemote: temps[i], dstFs: p.dirFs, dstRemote: p.name });
      if (!r.ok) throw this.failure(`cannot move ${p.rel} onto its name`, r);
      temps[i] = undefined;
      out[i] = { relPath: p.rel, fullPath: this.remotePath(p.rel), size: p.local.size, mtime: p.local.mtime, sha256: p.local.sha256 };
    };
    try {
      await mapBounded(prepared, this.o.transfers, async (p, i) => {
        try {
          const tmp = `.${p.name}.tmp-${tempTag()}`;
          temps[i] = tmp;
          // rclone verifies the upload's size and, where source and remote share one, its hash
          const r = await this.call(
            'operations/copyfile',
            { srcFs: path.dirname(p.real), srcRemote: path.basename(p.real), dstFs: p.dirFs, dstRemote: tmp },
            p.local.size,
          );
          if (!r.ok) throw this.failure(`cannot store ${p.rel}`, r);
          if (!p.last && !failed) await move(i);
        } catch (err) {
          failed = true;
          throw err;
        }
      });
      await mapBounded(
        prepared.map((p, i) => (p.last ? i : -1)).filter((i) => i >= 0),
        this.o.transfers,
        move,
      );
    } catch (err) {
      await Promise.all(
        prepared.map((p, i) => (temps[i] ? this.call('operations/deletefile', { fs: p.dirFs, remote: temps[i] }).catch(() => undefined) : undefined)),
      );
      throw err;
    }
    return out;
  }

  async retrieve(relPath: string, localPath: string): Promise<void> {
    const { fs: dirFs, name, segs } = this.split(relPath);
    const rel = segs.join('/');
    if (typeof localPath !== 'string' || !path.isAbsolute(localPath)) {
      throw new StorageError(`cannot retrieve ${rel} from ${this.describe()} to ${localPath}: the local path must be absolute`, { transient: false });
    }
    const dir = path.dirname(localPath);
    await fs.mkdir(dir, { recursive: true });
    const tmpName = `.${path.basename(localPath)}.tmp-${tempTag()}`;
    const tmp = path.join(dir, tmpName);
    try {
      const r = await this.call('operations/copyfile', { srcFs: dirFs, srcRemote: name, dstFs: await fs.realpath(dir), dstRemote: tmpName }, 1 << 30);
      if (RcloneStorage.notFound(r)) {
        throw new StorageError(`cannot retrieve ${rel} from ${this.describe()} to ${localPath}: no such file in storage`, { transient: false });
      }
      if (!r.ok) throw this.failure(`cannot retrieve ${rel} to ${localPath}`, r);
      await fs.rename(tmp, localPath);
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /** operations/stat of one path (with the remote's own hashes when asked): the entry, or null when missing. */
  private async statEntry(relPath: string, hashes: string[] = []): Promise<{ e: LsjsonEntry | null; rel: string }> {
    const { fs: dirFs, name, segs } = this.split(relPath);
    const rel = segs.join('/');
    const r = await this.call('operations/stat', { fs: dirFs, remote: name, opt: hashes.length ? { showHash: true, hashTypes: hashes } : {} });
    if (RcloneStorage.notFound(r)) return { e: null, rel };
    if (!r.ok) throw this.failure(`cannot check ${rel}`, r);
    return { e: (r.body.item as LsjsonEntry | null) ?? null, rel };
  }

  async exists(relPath: string): Promise<boolean> {
    if (splitRelPath(relPath).length < 2) return false;
    const { e } = await this.statEntry(relPath);
    return e !== null && !e.IsDir;
  }

    /**
   * Size and time of a stored file from one `operations/stat`, nothing transferred. The remote's MD5 is not
   * asked: nothing recorded at store time to compare it with (job_files holds the SHA-256 of the bytes sent),
   * and on sftp remotes it makes the server read the whole file.
   */
  async head(relPath: string): Promise<StoredHead | null> {
    const { e, rel } = await this.statEntry(relPath);
    if (!e || e.IsDir) return null;
    return { relPath: rel, fullPath: this.remotePath(rel), size: e.Size, mtime: new Date(e.ModTime), hashes: {} };
  }

  async stat(relPath: string): Promise<StoredFile | null> {
    const { e, rel } = await this.statEntry(relPath);
    if (!e || e.IsDir) return null;
    // the SHA-256 of a file stored earlier: read it back (rclone's remotes offer no SHA-256 of their own)
    const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-rclone-stat-'));
    try {
      const local = path.join(tmpDir, 'f');
      await this.retrieve(rel, local);
      const h = await hashLocal(local);
      return { relPath: rel, fullPath: this.remotePath(rel), size: e.Size, mtime: new Date(e.ModTime), sha256: h.sha256 };
    } finally {
      await fs.rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async list(relDir: string): Promise<string[]> {
    const rel = splitRelPath(relDir, true).join('/');
    const r = await this.call('operations/list', { fs: this.remotePath(rel), remote: '' });
    if (RcloneStorage.notFound(r)) return [];
    if (!r.ok) throw this.failure(`cannot list ${rel || '.'}`, r);
    return ((r.body.list as LsjsonEntry[] | undefined) ?? [])
      .map((e) => (e.IsDir ? `${e.Name}/` : e.Name))
      .filter((l) => !HIDDEN.test(l))
      .sort();
  }

  /**
   * Read-only: list `relDir` below the base (rclone connects and authenticates for it). rclone shows no
   * permissions, so whether it is writable is not known without writing (`pdr storage check` writes a probe).
   */
  async probe(relDir: string): Promise<StorageProbe> {
    const rel = splitRelPath(relDir, true).join('/');
    const r = await this.call('operations/list', { fs: this.remotePath(rel), remote: '' });
    if (RcloneStorage.notFound(r)) return { exists: false, writable: 'unknown', detail: `${this.remotePath(rel)} does not exist yet (a store creates it); write permission not checked` };
    if (!r.ok) throw this.failure(`cannot list ${rel || '.'}`, r);
    return { exists: true, writable: 'unknown', detail: `${this.remotePath(rel)} listed; write permission not checked (rclone shows none)` };
  }

  async remove(relPath: string): Promise<void> {
    const { fs: dirFs, name, segs } = this.split(relPath);
    const r = await this.call('operations/deletefile', { fs: dirFs, remote: name });
    if (RcloneStorage.notFound(r)) return;
    if (!r.ok) throw this.failure(`cannot remove ${segs.join('/')}`, r);
  }
}
