import pLimit from 'p-limit';
import type { StoredFile, StoreItem } from './backend';
import { StorageError } from './errors';

/**
 * Run `fn` over `items` with at most `limit` in flight (p-limit). Every item is finished (also after a
 * failure, so nothing still writes when the caller cleans up); the first failure is thrown. Results in item order.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const run = pLimit(Math.max(1, limit));
  const settled = await Promise.allSettled(items.map((item, i) => run(() => fn(item, i))));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/** storeMany of a backend that stores file by file: `limit` stores at once, the `last` ones after the others. */
export async function storeEach(store: (localPath: string, relPath: string) => Promise<StoredFile>, items: readonly StoreItem[], limit: number): Promise<StoredFile[]> {
  const out = new Array<StoredFile>(items.length);
  for (const last of [false, true]) {
    const idx = items.map((it, i) => (Boolean(it.last) === last ? i : -1)).filter((i) => i >= 0);
    const stored = await mapBounded(idx, limit, (i) => store(items[i].localPath, items[i].relPath));
    idx.forEach((i, k) => (out[i] = stored[k]));
  }
  return out;
}

/**
 * Bound a storage call in time: after `ms` it fails with a transient StorageError naming `what` (the call
 * itself may still end later; its result is then ignored). A hung server must not hold a slot forever.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: () => string, onTimeout?: () => void): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } catch {
        // the timeout is reported whatever the clean-up did
      }
      reject(new StorageError(`${what()}: no answer within ${Math.round(ms / 1000)} s`, { transient: true }));
    }, ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
