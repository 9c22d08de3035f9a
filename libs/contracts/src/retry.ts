import { DelegateBackoff, handleWhen, retry } from 'cockatiel';

/**
 * The one retry policy of the installation: every place that runs an operation again after a transient
 * failure (a deadlocked transaction, a database not up yet, state unreachable, a lost SFTP connection,
 * a job stream not created yet) goes through `withRetry`, built on cockatiel's retry policy. What differs
 * per site is only data — how many tries, which pauses, which errors are worth another try — and each
 * site names those values beside the reason for them.
 *
 * It lives in contracts because that is the one lib every retrying site already depends on (persistence,
 * storage, messaging and all apps); in messaging it would make persistence and storage depend on NATS.
 */
export interface RetryPlan {
  /** Tries in all, the first included; `Infinity`: until `retryable` says no. */
  attempts: number;
  /** The pause after failed try `n` (1-based) before the next one (see `backoff`). */
  delayMs: (n: number) => number;
}

export interface RetryOptions extends RetryPlan {
  /** Whether the error of failed try `n` is worth another try (transient); anything else is thrown at once. */
  retryable: (err: unknown, n: number) => boolean;
  /** Give up (throw the last error) rather than pause past this moment (epoch ms). */
  deadline?: number;
  /** Called after failed try `n`, before the pause (log the first, keep a message alive, …). */
  onRetry?: (err: unknown, n: number, delayMs: number) => void;
}

/** The pause shapes in use. */
export const backoff = {
  /** The same pause each time (polling something that will appear: a stream, an answer). */
  constant: (ms: number) => (): number => ms,
  /** `ms`, 2·`ms`, 3·`ms`, … (a service that is restarting). */
  linear: (ms: number) => (n: number): number => ms * n,
  /** `firstMs` doubled per try up to `maxMs` (a server that may take long to come up). */
  exponential: (firstMs: number, maxMs: number) => (n: number): number => Math.min(firstMs * 2 ** (n - 1), maxMs),
  /** `baseMs` plus a random part up to `spreadMs`·n (contenders that must not collide again in step). */
  jittered: (baseMs: number, spreadMs: number) => (n: number): number => baseMs + Math.floor(Math.random() * spreadMs * n),
  /**
   * `ms` on average, drawn from ½·`ms` to 1½·`ms` each time (many callers refused at once, e.g. claims shed by
   * a busy state service: with one constant pause they all came back in the same instant, and were shed again).
   */
  spread: (ms: number) => (): number => Math.floor(ms / 2 + Math.random() * ms),
} as const;

/** Runs `fn(n)` (n = 1, 2, …) until it succeeds, the error is not retryable, or the tries are used up. */
export async function withRetry<T>(fn: (n: number) => Promise<T>, o: RetryOptions): Promise<T> {
  if (!(o.attempts >= 1)) throw new Error(`retry: attempts must be at least 1, got ${o.attempts}`);
  let n = 0;
  const policy = retry(
    handleWhen((err) => {
      if (!o.retryable(err, n)) return false;
      return o.deadline === undefined || Date.now() + o.delayMs(n) <= o.deadline;
    }),
    { maxAttempts: o.attempts - 1, backoff: new DelegateBackoff<{ attempt: number }>((ctx) => o.delayMs(ctx.attempt)) },
  );
  if (o.onRetry) {
    const onRetry = o.onRetry;
    policy.onRetry((r) => onRetry('error' in r ? r.error : r.value, r.attempt, r.delay));
  }
  return policy.execute(() => fn(++n));
}
