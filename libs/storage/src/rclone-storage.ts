import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StorageBackend, StoredFile, StoreItem } from './backend';
import { StorageError, describeError } from './errors';
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
  /** Parallel transfers inside one rclone call (--transfers). */
  transfers: number;
}

interface RcloneResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** rclone's exit codes (rclone docs, "Exit Code"). */
const EXIT_DIR_NOT_FOUND = 3;
const EXIT_FILE_NOT_FOUND = 4;
const EXIT_RETRY = 5;
const EXIT_FATAL = 7;

const PERMANENT_TEXT =
  /permission denied|access denied|read-only file system|no space left|disk quota|quota exceeded|unable to authenticate|authentication failed|handshake failed: ssh: unable|didn't find section in config|couldn't find (root|remote)|unknown backend|failed to create file system|not a directory|is a directory|ssh: host key mismatch|knownhosts: key (mismatch|is unknown)|invalid|no such host/i;
const TRANSIENT_TEXT = /connection refused|connection reset|broken pipe|i\/o timeout|timed out|timeout|EOF|no route to host|network is unreachable|temporar|try again|connection lost/i;

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

interface LsjsonEntry {
  Path: string;
  Name: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  Hashes?: Record<string, string>;
}

/**
 * Storage through the rclone binary (SPEC §6.4 with defect 25 fixed): spawned without a shell, its exit code
 * and stderr honoured (pdr_run's returned booleans nobody checked), `remote_path_prefix` stripped on a path
 * boundary, never `rclone version` per call. One job's files go in four rclone calls, whatever their number:
 * `copy` of all of them into a hidden upload folder beside the model folder — rclone itself verifies each
 * upload's size and, where source and remote share a hash, its hash: MD5 on sftp remotes (computed on the
 * server with md5sum when the account has a shell; size only where it has none) and on local remotes —
 * then two server-side `move`s onto the final names (a rename on sftp and local remotes: never a
 * half-written file under its name; the `last` files second) and a `purge` of the empty upload folder.
 * SHA-256 is computed locally of the bytes sent (a remote SHA-256 would cost a second transfer).
 */
export class RcloneStorage implements StorageBackend {
  private readonly binary: string;

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
  }

  describe(): string {
    return `rclone:${this.remotePath('')}`;
  }

  /** Remote path of a storage-relative path (`''` = the base). */
  remotePath(rel: string): string {
    return rcloneRemotePath(this.o.remote, this.o.remotePathPrefix, rel ? path.posix.join(this.o.baseDir, rel) : this.o.baseDir);
  }

  private rclone(args: string[], bytes = 0): Promise<RcloneResult> {
    const timeoutMs = this.o.callTimeoutMs + Math.ceil(bytes * this.o.msPerByte);
    // one try inside rclone (retries are ours: the job's nak path), short connection timeouts, errors only
    // one checker, one transfer unless a call says otherwise: each opens an SSH connection of its own on sftp
    // remotes (~100 ms on loopback), while one connection moves a job's small files in a few ms
    const all = ['--retries', '1', '--low-level-retries', '2', '--contimeout', '15s', '--timeout', '60s', '--log-level', 'ERROR', '--checkers', '1', '--transfers', '1', ...args];
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const child = spawn(this.binary, all, { stdio: ['ignore', 'pipe', 'pipe'], env: this.o.env ?? process.env, shell: false });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 64 * 1024) stderr += d;
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ code: null, stdout, stderr: code === 'ENOENT' ? `rclone executable "${this.binary}" not found (install rclone or set PDR_RCLONE)` : describeError(err), timedOut: false });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, timedOut });
      });
    });
  }

  /** A failed rclone call as a StorageError: its last stderr lines, transient or permanent. */
  private failure(what: string, r: RcloneResult): StorageError {
    const lines = r.stderr
      .split('\n')
      .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim())
      .filter((l) => l && !/^NOTICE: Config file .* not found/.test(l));
    const text = lines.slice(-3).join(' | ').slice(0, 600) || `exit code ${String(r.code)}`;
    let transient: boolean;
    if (r.timedOut) transient = true;
    else if (r.code === null) transient = !/not found/.test(text);
    else if (r.code === EXIT_RETRY) transient = true;
    else if (r.code === EXIT_FATAL || r.code === 1) transient = false;
    else if (PERMANENT_TEXT.test(text)) transient = false;
    else if (TRANSIENT_TEXT.test(text)) transient = true;
    else transient = true;
    const why = r.timedOut ? `rclone did not finish in time and was killed (${text})` : `rclone exit code ${String(r.code)}: ${text}`;
    return new StorageError(`${what} (${this.describe()}): ${why}`, { transient });
  }

  async store(localPath: string, relPath: string): Promise<StoredFile> {
    return (await this.storeMany([{ localPath, relPath }]))[0];
  }

  async storeMany(items: readonly StoreItem[]): Promise<StoredFile[]> {
    if (items.length === 0) return [];
    const prepared = await Promise.all(
      items.map(async (it) => {
        const segs = splitRelPath(it.relPath);
        const rel = segs.join('/');
        if (typeof it.localPath !== 'string' || !path.isAbsolute(it.localPath)) {
          throw new StorageError(`cannot store ${it.localPath} as ${rel} in ${this.describe()}: the local path must be absolute`, { transient: false });
        }
        if (segs.length < 2) throw new StorageError(`cannot store ${rel} in ${this.describe()}: files go below a model folder`, { transient: false });
        try {
          return { ...it, rel, segs, local: await hashLocal(it.localPath) };
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
    // one upload folder per model folder, beside it (rclone refuses a move into a folder containing the source)
    const groups = new Map<string, typeof prepared>();
    for (const p of prepared) groups.set(p.segs[0], [...(groups.get(p.segs[0]) ?? []), p]);
    const results = new Map<string, StoredFile>();
    for (const [top, group] of groups) {
      const stage = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-rclone-'));
      const upload = `.pdr-upload-${tempTag()}`;
      const uploadRemote = this.remotePath(upload);
      const finalRemote = this.remotePath(top);
      const names = group.map((p) => p.rel).join(', ');
      const bytes = group.reduce((n, p) => n + p.local.size, 0);
      let uploaded = false;
      try {
        for (const p of group) {
          const link = path.join(stage, 'files', ...p.segs.slice(1));
          await fs.mkdir(path.dirname(link), { recursive: true });
          await fs.symlink(p.localPath, link);
        }
        // 1. every file into the upload folder; rclone checks each upload's size and, where source and remote
        //    share a hash (MD5/SHA-1 on sftp remotes with md5sum/sha1sum, all on local), its hash
        uploaded = true;
        // parallel transfers (one connection each) only for big outputs: one per 64 MiB, at most `transfers`
        const transfers = Math.min(this.o.transfers, Math.max(1, Math.ceil(bytes / (64 << 20))));
        const copy = await this.rclone(['copy', '--copy-links', '--transfers', String(transfers), path.join(stage, 'files'), uploadRemote], bytes);
        if (copy.code !== 0) throw this.failure(`cannot store ${names}`, copy);
        // 2. server-side renames onto the final names: the other files first, then the `last` ones
        for (const last of [false, true]) {
          const batch = group.filter((p) => Boolean(p.last) === last);
          if (batch.length === 0) continue;
          const list = path.join(stage, last ? 'last.txt' : 'first.txt');
          await fs.writeFile(list, batch.map((p) => `${p.segs.slice(1).join('/')}\n`).join(''));
          // --ignore-times: a stored file of the same size is replaced too (a re-run's output)
          const move = ['move', '--files-from-raw', list, '--no-traverse', '--ignore-times', '--delete-empty-src-dirs', uploadRemote, finalRemote];
          let mv = await this.rclone(move);
          // two jobs creating the same new model folder at once: one of them sees an I/O error; once more finds it
          if (mv.code !== 0 && !mv.timedOut) mv = await this.rclone(move);
          if (mv.code !== 0) throw this.failure(`cannot move ${batch.map((p) => p.rel).join(', ')} to their final names`, mv);
          for (const p of batch) {
            results.set(p.rel, { relPath: p.rel, fullPath: this.remotePath(p.rel), size: p.local.size, mtime: p.local.mtime, sha256: p.local.sha256 });
          }
        }
      } finally {
        await fs.rm(stage, { recursive: true, force: true }).catch(() => undefined);
        if (uploaded) await this.rclone(['purge', uploadRemote]).catch(() => undefined);
      }
    }
    return prepared.map((p) => results.get(p.rel) as StoredFile);
  }

  async retrieve(relPath: string, localPath: string): Promise<void> {
    const rel = splitRelPath(relPath).join('/');
    if (typeof localPath !== 'string' || !path.isAbsolute(localPath)) {
      throw new StorageError(`cannot retrieve ${rel} from ${this.describe()} to ${localPath}: the local path must be absolute`, { transient: false });
    }
    const dir = path.dirname(localPath);
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(localPath)}.tmp-${tempTag()}`);
    try {
      const r = await this.rclone(['copyto', this.remotePath(rel), tmp]);
      if (r.code === EXIT_DIR_NOT_FOUND || r.code === EXIT_FILE_NOT_FOUND || (r.code !== 0 && /not found|doesn't exist/i.test(r.stderr))) {
        throw new StorageError(`cannot retrieve ${rel} from ${this.describe()} to ${localPath}: no such file in storage`, { transient: false });
      }
      if (r.code !== 0) throw this.failure(`cannot retrieve ${rel} to ${localPath}`, r);
      await fs.rename(tmp, localPath);
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /** lsjson --stat of one path: the entry, or null when it does not exist. */
  private async statEntry(rel: string): Promise<LsjsonEntry | null> {
    const r = await this.rclone(['lsjson', '--stat', '--no-mimetype', this.remotePath(rel)]);
    if (r.code === EXIT_DIR_NOT_FOUND || r.code === EXIT_FILE_NOT_FOUND) return null;
    if (r.code !== 0) throw this.failure(`cannot check ${rel}`, r);
    return JSON.parse(r.stdout) as LsjsonEntry;
  }

  async exists(relPath: string): Promise<boolean> {
    const rel = splitRelPath(relPath).join('/');
    const e = await this.statEntry(rel);
    return e !== null && !e.IsDir;
  }

  async stat(relPath: string): Promise<StoredFile | null> {
    const rel = splitRelPath(relPath).join('/');
    const e = await this.statEntry(rel);
    if (!e || e.IsDir) return null;
    // the checksum of a file stored earlier: read it back (only for skipped jobs)
    const hash = createHash('sha256');
    const ok = await new Promise<RcloneResult>((resolve) => {
      const child = spawn(this.binary, ['--log-level', 'ERROR', 'cat', this.remotePath(rel)], { stdio: ['ignore', 'pipe', 'pipe'], env: this.o.env ?? process.env });
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.o.callTimeoutMs + Math.ceil(e.Size * this.o.msPerByte));
      child.stdout.on('data', (d: Buffer) => hash.update(d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => resolve({ code: null, stdout: '', stderr: describeError(err), timedOut }));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: '', stderr, timedOut });
      });
    });
    if (ok.code !== 0) throw this.failure(`cannot read ${rel}`, ok);
    return { relPath: rel, fullPath: this.remotePath(rel), size: e.Size, mtime: new Date(e.ModTime), sha256: hash.digest('hex') };
  }

  async list(relDir: string): Promise<string[]> {
    const rel = splitRelPath(relDir, true).join('/');
    const r = await this.rclone(['lsf', this.remotePath(rel)]);
    if (r.code === EXIT_DIR_NOT_FOUND) return [];
    if (r.code !== 0) throw this.failure(`cannot list ${rel || '.'}`, r);
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !HIDDEN.test(l))
      .sort();
  }

  async remove(relPath: string): Promise<void> {
    const rel = splitRelPath(relPath).join('/');
    if (!(await this.statEntry(rel))) return;
    const r = await this.rclone(['deletefile', this.remotePath(rel)]);
    if (r.code !== 0) throw this.failure(`cannot remove ${rel}`, r);
  }
}
