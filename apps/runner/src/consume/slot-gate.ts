import pLimit from 'p-limit';

/**
 * What the consumer lends one job event for its slot (claim-ahead, see JobConsumer): the job runs only
 * once `acquire` gives it a slot (at most `slots` at once, in claim order), and tells `storing` when its
 * executables are done, so the consumer may pull and claim the next event while the outputs are stored.
 */
export interface SlotLease {
  acquire(): Promise<() => void>;
  storing(): void;
}

/**
 * The runner's slots: `acquire()` resolves with a release function once one of `slots` is free, in the
 * order asked (p-limit's queue). Releasing twice is harmless.
 */
export function slotGate(slots: number): () => Promise<() => void> {
  const limit = pLimit(slots);
  return () =>
    new Promise((granted) => {
      void limit(
        () =>
          new Promise<void>((release) => {
            let released = false;
            granted(() => {
              if (released) return;
              released = true;
              release();
            });
          }),
      );
    });
}

/** A slot from `acquire`, or null when `signal` aborts first (a slot granted after that is handed on at once). */
export function slotUnlessAborted(acquire: () => Promise<() => void>, signal: AbortSignal): Promise<(() => void) | null> {
  const granted = acquire();
  return new Promise((resolve) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      resolve(null);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void granted.then((release) => {
      signal.removeEventListener('abort', onAbort);
      if (settled) release();
      else {
        settled = true;
        resolve(release);
      }
    });
  });
}
