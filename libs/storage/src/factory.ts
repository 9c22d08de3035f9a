import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { limitFromEnv, type StorageSettings } from '@pdr/contracts';
import type { Logger } from '@pdr/logging';
import type { StorageBackend, StorageProbe, StoredFile, StoredHead, StoreItem } from './backend';
import { withTimeout } from './bounded';
import { LocalStorage } from './local-storage';
import { closeRcloneDaemons } from './rclone-daemon';
import { RcloneStorage, rcloneRemotePath } from './rclone-storage';
import { SftpConnection, SftpStorage } from './sftp-storage';

export interface StorageRuntime {
  /** Where secrets and tool paths come from: PDR_STORAGE_PASSWORD, PDR_STORAGE_KEY_PASSPHRASE, SSH_AUTH_SOCK, PDR_RCLONE, RCLONE_*; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

interface Limits {
  callTimeoutMs: number;
  msPerByte: number;
  connectTimeoutMs: number;
  parallelTransfers: number;
}

function limits(env: NodeJS.ProcessEnv): Limits {
  return {
    callTimeoutMs: limitFromEnv('STORAGE_CALL_TIMEOUT_MS', env),
    msPerByte: 1000 / limitFromEnv('STORAGE_MIN_BYTES_PER_S', env),
    connectTimeoutMs: limitFromEnv('STORAGE_CONNECT_TIMEOUT_MS', env),
    parallelTransfers: limitFromEnv('STORAGE_PARALLEL_TRANSFERS', env),
  };
}

/** SFTP connections of this process, one per server + user + key settings (a runner's jobs share them). */
const sftpConnections = new Map<string, SftpConnection>();

function sftpConnection(s: Extract<StorageSettings, { type: 'sftp' }>, env: NodeJS.ProcessEnv, l: Limits, logger?: Logger): SftpConnection {
  const password = env.PDR_STORAGE_PASSWORD || undefined;
  const passphrase = env.PDR_STORAGE_KEY_PASSPHRASE || undefined;
  const agent = env.SSH_AUTH_SOCK || undefined;
  // the secrets are part of the identity (a changed password makes a new connection) but only as a hash
  const key = JSON.stringify([s.host, s.port, s.username, s.privateKeyFile, s.knownHostsFile, s.hostKeyCheck, agent, hashOf(password), hashOf(passphrase)]);
  let conn = sftpConnections.get(key);
  if (!conn) {
    conn = new SftpConnection({
      host: s.host,
      port: s.port,
      username: s.username,
      password,
      passphrase,
      agent,
      privateKeyFile: s.privateKeyFile,
      knownHostsFile: s.knownHostsFile,
      hostKeyCheck: s.hostKeyCheck,
      connectTimeoutMs: l.connectTimeoutMs,
      parallelTransfers: l.parallelTransfers,
      logger,
    });
    sftpConnections.set(key, conn);
  }
  return conn;
}

/**
 * One SftpStorage per connection and base, shared by the jobs of a runner: the base and the model's folders
 * are resolved and confined once, not again for every job (6 round trips per job, 300 ms to a distant server).
 */
const sftpStorages = new WeakMap<SftpConnection, Map<string, SftpStorage>>();

function sftpStorage(conn: SftpConnection, baseDir: string): SftpStorage {
  let byBase = sftpStorages.get(conn);
  if (!byBase) sftpStorages.set(conn, (byBase = new Map()));
  let st = byBase.get(baseDir);
  if (!st) byBase.set(baseDir, (st = new SftpStorage(conn, baseDir)));
  return st;
}

/**
 * One LocalStorage per base directory, shared by the jobs of a runner (as SFTP's above): the base's real
 * path, its filesystem and the model's folders are resolved and checked once, and only confirmed (one
 * realpath each) at every later call — a folder that vanished or moved is checked and created again. A new
 * instance per job cost ~20 calls per job, 8 of them thread-pool round trips (docs/benchmarks.md). At most
 * LOCAL_STORAGES are kept (the least recently used is dropped: it holds no resource).
 */
const LOCAL_STORAGES = 32;
const localStorages = new Map<string, LocalStorage>();

function localStorage(baseDir: string): LocalStorage {
  let st = localStorages.get(baseDir);
  if (st) localStorages.delete(baseDir);
  else st = new LocalStorage(baseDir);
  localStorages.set(baseDir, st); // most recently used last
  if (localStorages.size > LOCAL_STORAGES) localStorages.delete(localStorages.keys().next().value as string);
  return st;
}

function hashOf(v: string | undefined): string | null {
  return v === undefined ? null : createHash('sha256').update(v).digest('hex');
}

/**
 * The storage backend of a grid, from its settings (the grid request's `run.storage`). The only place
 * that knows which backends exist: the runner and the CLI see a StorageBackend. Every call of the
 * backend is bounded in time (STORAGE_CALL_TIMEOUT_MS plus STORAGE_MIN_BYTES_PER_S for the bytes moved).
 */
export function createStorage(settings: StorageSettings, rt: StorageRuntime = {}): StorageBackend {
  const env = rt.env ?? process.env;
  const l = limits(env);
  let inner: StorageBackend;
  switch (settings.type) {
    case 'local':
      inner = localStorage(settings.baseDir);
      break;
    case 'sftp':
      inner = sftpStorage(sftpConnection(settings, env, l, rt.logger), settings.baseDir);
      break;
    case 'rclone':
      inner = new RcloneStorage({
        remote: settings.remote,
        baseDir: settings.baseDir,
        remotePathPrefix: settings.remotePathPrefix,
        binary: env.PDR_RCLONE,
        callTimeoutMs: l.callTimeoutMs,
        msPerByte: l.msPerByte,
        env,
        transfers: l.parallelTransfers,
      });
      break;
    default:
      throw new Error(`unknown storage type ${JSON.stringify((settings as { type: unknown }).type)}`);
  }
  return new TimedStorage(inner, l);
}

/** Where a grid's outputs go, for messages and `pdr run`'s summary (no secret: settings carry none). */
export function describeStorageSettings(s: StorageSettings): string {
  switch (s.type) {
    case 'local':
      return s.baseDir;
    case 'sftp':
      return `sftp://${s.username}@${s.host}:${s.port}${s.baseDir.startsWith('/') ? '' : '/~/'}${s.baseDir}`;
    case 'rclone':
      return `rclone:${rcloneRemotePath(s.remote, s.remotePathPrefix, s.baseDir)}`;
  }
}

/** Ends every SFTP connection and rclone daemon of this process (a runner shutting down, a CLI command done). */
export async function closeStorageConnections(): Promise<void> {
  closeRcloneDaemons();
  const all = [...sftpConnections.values()];
  sftpConnections.clear();
  await Promise.all(all.map((c) => c.close()));
}

/**
 * Size of a local file for the time bound, 0 when it cannot be read (the backend reports that itself).
 * Synchronous: a stat of the runner's local scratch takes microseconds, a thread-pool round trip per output
 * file (13 in a row per job) took longer than the upload of a small file over SFTP.
 */
function localSize(p: string): number {
  try {
    return statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    return 0;
  }
}

/** Bounds every call of a backend in time; a call over its time is a transient StorageError naming it. */
class TimedStorage implements StorageBackend {
  /** Present only when the backend has them. */
  readonly probe?: (relDir: string) => Promise<StorageProbe>;
  readonly head?: (relPath: string) => Promise<StoredHead | null>;

  constructor(
    private readonly inner: StorageBackend,
    private readonly l: Limits,
  ) {
    const probe = inner.probe?.bind(inner);
    if (probe) this.probe = (relDir) => this.bound(probe(relDir), 0, () => `checking ${relDir || '.'}`);
    const head = inner.head?.bind(inner);
    if (head) this.head = (relPath) => this.bound(head(relPath), 0, () => `checking ${relPath}`);
  }

  private bound<T>(p: Promise<T>, bytes: number, what: () => string): Promise<T> {
    return withTimeout(p, this.l.callTimeoutMs + Math.ceil(bytes * this.l.msPerByte), () => `${what()} in ${this.inner.describe()}`);
  }

  describe(): string {
    return this.inner.describe();
  }
  async store(localPath: string, relPath: string): Promise<StoredFile> {
    const bytes = localSize(localPath);
    return this.bound(this.inner.store(localPath, relPath), bytes, () => `storing ${relPath}`);
  }
  async storeMany(items: readonly StoreItem[]): Promise<StoredFile[]> {
    let bytes = 0;
    for (const it of items) bytes += localSize(it.localPath);
    return this.bound(this.inner.storeMany(items), bytes, () => `storing ${items.map((i) => i.relPath).join(', ')}`);
  }
  retrieve(relPath: string, localPath: string): Promise<void> {
    // the size is not known before: a retrieve gets the time of a 1 GB transfer at the slowest rate
    return this.bound(this.inner.retrieve(relPath, localPath), 1 << 30, () => `retrieving ${relPath}`);
  }
  exists(relPath: string): Promise<boolean> {
    return this.bound(this.inner.exists(relPath), 0, () => `checking ${relPath}`);
  }
  stat(relPath: string): Promise<StoredFile | null> {
    return this.bound(this.inner.stat(relPath), 1 << 30, () => `reading ${relPath}`);
  }
  list(relDir: string): Promise<string[]> {
    return this.bound(this.inner.list(relDir), 0, () => `listing ${relDir || '.'}`);
  }
  remove(relPath: string): Promise<void> {
    return this.bound(this.inner.remove(relPath), 0, () => `removing ${relPath}`);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

