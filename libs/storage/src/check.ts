import { randomBytes, createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StorageSettings } from '@pdr/contracts';
import { StorageError, describeError } from './errors';
import { closeStorageConnections, createStorage, describeStorageSettings, type StorageRuntime } from './factory';
import { filesystemKind } from './filesystem';
import { assertSafeName } from './paths';

/** What stopped a storage check, in the words a user needs (one per remedy). */
export type StorageProblem = 'unreachable' | 'authentication' | 'host key' | 'permissions' | 'no space' | 'missing remote' | 'invalid' | 'other';

export interface StorageCheckResult {
  ok: boolean;
  /** The storage that was checked (backend, host, base, model folder): never a secret. */
  where: string;
  /** One line: what works, or exactly what does not. */
  message: string;
  problem?: StorageProblem;
  /** Trying again later may help (server down, timeout) — as opposed to a setting to fix. */
  transient?: boolean;
  /** The check was not made (e.g. a local base that does not exist on this machine). */
  skipped?: boolean;
}

function problemOf(text: string): StorageProblem {
  if (/authentication failed|private key unusable|no way to authenticate|unable to authenticate/i.test(text)) return 'authentication';
  if (/host key/i.test(text)) return 'host key';
  if (/EACCES|EPERM|EROFS|permission denied|access denied|read-only/i.test(text)) return 'permissions';
  if (/ENOSPC|EDQUOT|no space|quota/i.test(text)) return 'no space';
  if (/didn't find section in config|not found in config|unknown backend|rclone executable .* not found/i.test(text)) return 'missing remote';
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|refused connection|connection refused|no answer within|timed out|timeout|address lookup/i.test(text)) {
    return 'unreachable';
  }
  if (/invalid storage path|procfs|sysfs|pseudo filesystem|not a directory|carries/i.test(text)) return 'invalid';
  return 'other';
}

/** The model's folder both checks name in their line, or the refusal of a model name that is no safe name. */
function checkedFolder(settings: StorageSettings, modelName: string): { where: string } | { refused: StorageCheckResult } {
  const base = describeStorageSettings(settings);
  try {
    assertSafeName(modelName, 'model name');
  } catch (err) {
    return { refused: { ok: false, where: base, message: describeError(err), problem: 'invalid', transient: false } };
  }
  return { where: `${base.replace(/\/$/, '')}/${modelName}` };
}

/**
 * The cheap storage check of `pdr storage check` and `pdr run` (before it submits): with the grid's storage
 * settings, write a small probe file under the model's folder (`<model>/pdrgrid/.pdr-storage-check-…`), read
 * its metadata and content back, compare the SHA-256, delete it, and say in one line what works or what does
 * not (unreachable, authentication, host key, permissions, no space, missing remote). Never throws.
 * A local base that does not exist on this machine (nor its parent) is not checked (the runners may see
 * paths this machine does not): `skipped`. For a command-line process: it ends this process's storage
 * connections when done (closeStorageConnections).
 */
export async function checkStorage(settings: StorageSettings, modelName: string, rt: StorageRuntime = {}): Promise<StorageCheckResult> {
  const target = checkedFolder(settings, modelName);
  if ('refused' in target) return target.refused;
  const { where } = target;
  if (settings.type === 'local' && !existsSync(settings.baseDir) && !existsSync(path.dirname(settings.baseDir))) {
    return { ok: true, skipped: true, where, message: `storage ${where} not checked: ${settings.baseDir} does not exist on this machine (the runners must see it)` };
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-storage-check-'));
  const probe = `${modelName}/pdrgrid/.pdr-storage-check-${process.pid}-${randomBytes(6).toString('hex')}`;
  const content = randomBytes(256);
  const sha = createHash('sha256').update(content).digest('hex');
  let stored = false;
  const storage = (() => {
    try {
      return createStorage(settings, rt);
    } catch (err) {
      return err as Error;
    }
  })();
  let step = 'connect';
  try {
    if (storage instanceof Error) throw storage;
    const local = path.join(tmp, 'probe');
    await fs.writeFile(local, content);
    step = 'write';
    const st = await storage.store(local, probe);
    stored = true;
    if (st.size !== content.length || st.sha256 !== sha) throw new StorageError(`the stored probe has ${st.size} bytes, sha256 ${st.sha256.slice(0, 12)}…`);
    step = 'read back';
    const back = await storage.stat(probe);
    if (!back || back.sha256 !== sha) throw new StorageError(back ? 'the probe read back differs from what was written' : 'the probe is missing after it was written');
    const copy = path.join(tmp, 'copy');
    await storage.retrieve(probe, copy);
    if (!content.equals(await fs.readFile(copy))) throw new StorageError('the retrieved probe differs from what was written');
    step = 'delete';
    await storage.remove(probe);
    stored = false;
    if (await storage.exists(probe)) throw new StorageError('the probe is still there after it was deleted');
    return { ok: true, where, message: `storage ${where}: OK (write, read back, sha256 verified, delete)` };
  } catch (err) {
    const text = describeError(err);
    const problem = problemOf(text);
    const transient = err instanceof StorageError ? err.transient : undefined;
    const at = problem === 'authentication' || problem === 'unreachable' || problem === 'host key' ? 'connect' : step;
    const label = problem === 'other' ? `${at} failed` : `${at} failed (${problem})`;
    return { ok: false, where, message: `storage ${where}: ${label}: ${text}`, problem, transient };
  } finally {
    if (stored && !(storage instanceof Error)) await storage.remove(probe).catch(() => undefined);
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    await closeStorageConnections().catch(() => undefined);
  }
}

/** The nearest existing path of `p` (itself or a parent). */
function nearestExisting(p: string): string {
  let cur = p;
  while (!existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

/**
 * The READ-ONLY storage check of `pdr check` and `pdr run --dry-run` (which must not write): connect and
 * authenticate, find the model's folder (`<model>/pdrgrid`) or its nearest existing parent, and judge from
 * its permissions whether the runners' stores can write there. What each backend can tell:
 * - local: the folder's nearest existing parent is a directory on a real filesystem (not /proc, /sys) and
 *   access(W_OK) allows writing; a base that does not exist on this machine (nor its parent) is skipped;
 * - sftp: connection, authentication and host key; the folder's mode, owner and group against the user's
 *   uid/gid (those of its login directory; a folder writable by its group counts as writable);
 * - rclone: the remote exists in the configuration, connects and authenticates, the folder lists (or does not
 *   exist yet); write permission is not known (rclone shows none).
 * `pdr run` (without --dry-run) and `pdr storage check` make the full check instead (checkStorage: write,
 * read back, delete). Never throws; ends this process's storage connections when done.
 */
export async function probeStorage(settings: StorageSettings, modelName: string, rt: StorageRuntime = {}): Promise<StorageCheckResult> {
  const target = checkedFolder(settings, modelName);
  if ('refused' in target) return target.refused;
  const { where } = target;
  const rel = `${modelName}/pdrgrid`;
  try {
    if (settings.type === 'local') {
      if (!existsSync(settings.baseDir) && !existsSync(path.dirname(settings.baseDir))) {
        return { ok: true, skipped: true, where, message: `storage ${where} not checked: ${settings.baseDir} does not exist on this machine (the runners must see it)` };
      }
      const target = path.join(settings.baseDir, rel);
      const cur = nearestExisting(target);
      const kind = filesystemKind(cur);
      if (kind.pseudo) throw new StorageError(`storage base directory ${settings.baseDir} is on ${kind.name} (${cur}), a kernel pseudo filesystem that cannot hold files`, { transient: false });
      const st = await fs.stat(cur);
      if (!st.isDirectory()) throw new StorageError(`cannot store into ${target}: ${cur} exists and is not a directory`, { transient: false });
      try {
        await fs.access(cur, fs.constants.W_OK);
      } catch (err) {
        throw new StorageError(`${cur} is not writable: ${describeError(err)}`, { transient: false, cause: err });
      }
      const detail = cur === target ? target : `${cur} (${target} would be created there)`;
      return { ok: true, where, message: `storage ${where}: OK (read-only check: ${detail} writable; nothing written)` };
    }
    const storage = createStorage(settings, rt);
    if (!storage.probe) throw new StorageError(`${storage.describe()} has no read-only check`, { transient: false });
    const p = await storage.probe(rel);
    if (p.writable === false) throw new StorageError(`permission denied: ${p.detail}`, { transient: false });
    return { ok: true, where, message: `storage ${where}: OK (read-only check: connected; ${p.detail}; nothing written)` };
  } catch (err) {
    const text = describeError(err);
    const problem = problemOf(text);
    const transient = err instanceof StorageError ? err.transient : undefined;
    const label = problem === 'other' ? 'read-only check failed' : `read-only check failed (${problem})`;
    return { ok: false, where, message: `storage ${where}: ${label}: ${text}`, problem, transient };
  } finally {
    await closeStorageConnections().catch(() => undefined);
  }
}
