import { ContractError } from '@pdr/contracts';

/**
 * Admission control of a contract service (state): at most `maxActive` handlers run at once, the rest wait
 * in line by priority (lower first), then by arrival. A request whose RPC may be shed and that waited in
 * line longer than its `shedAfterMs` is answered UNAVAILABLE without running: its caller retries after a
 * delay, keeping what it holds.
 *
 * Why (npm test's test/scale, docs/benchmarks.md): with thousands of runner slots every request went
 * straight to the database pool's queue. Once that queue was longer than the callers' request timeout,
 * claims timed out, were retried and ran twice (the first one for nobody), heartbeats piled up behind
 * them and the whole installation collapsed into retries. Now the work that frees slots (finish,
 * heartbeat, release) goes first, a claim that cannot be served in time is refused early instead of
 * late, and nothing waits in the pool's queue.
 */
export interface AdmissionOptions<K extends string = string> {
  /** Handlers running at once (e.g. 2 × the database pool: one in the pool, one being parsed/answered). */
  maxActive: number;
  /** Position in line: lower runs first (default 1). */
  priority?: (kind: K) => number;
  /** Requests of this kind that waited longer than this are refused (UNAVAILABLE); undefined: never. */
  shedAfterMs?: (kind: K) => number | undefined;
}

interface Waiter {
  kind: string;
  at: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The refusal of a shed request: a transient error for the caller (it retries), not a fault of the service. */
export class OverloadedError extends ContractError {
  constructor(kind: string, waitedMs: number) {
    super('UNAVAILABLE', `the service is busy: ${kind} waited ${Math.round(waitedMs)} ms for its turn; retry later`);
  }
}

export class Admission<K extends string = string> {
  private active = 0;
  private readonly lines = new Map<number, Waiter[]>();
  /** Requests refused so far (for a periodic log line rather than one per refusal). */
  shed = 0;

  constructor(private readonly o: AdmissionOptions<K>) {
    if (!(o.maxActive >= 1)) throw new Error(`admission maxActive must be ≥ 1, got ${o.maxActive}`);
  }

  get waiting(): number {
    let n = 0;
    for (const l of this.lines.values()) n += l.length;
    return n;
  }

  /** Runs `fn` when its turn comes; rejects with OverloadedError when it was shed. */
  async run<T>(kind: K, fn: () => Promise<T>): Promise<T> {
    if (this.active < this.o.maxActive && this.waiting === 0) this.active++;
    else await this.enqueue(kind);
    try {
      return await fn();
    } finally {
      this.active--;
      this.next();
    }
  }

  private enqueue(kind: K): Promise<void> {
    const p = this.o.priority?.(kind) ?? 1;
    return new Promise<void>((resolve, reject) => {
      if (!this.lines.has(p)) this.lines.set(p, []);
      this.lines.get(p)!.push({ kind, at: Date.now(), resolve, reject });
    });
  }

  private next(): void {
    while (this.active < this.o.maxActive) {
      const w = this.take();
      if (!w) return;
      const waited = Date.now() - w.at;
      const limit = this.o.shedAfterMs?.(w.kind as K);
      if (limit !== undefined && waited > limit) {
        this.shed++;
        w.reject(new OverloadedError(w.kind, waited));
        continue;
      }
      this.active++;
      w.resolve();
    }
  }

  private take(): Waiter | undefined {
    const ps = [...this.lines.keys()].sort((a, b) => a - b);
    for (const p of ps) {
      const l = this.lines.get(p)!;
      if (l.length) return l.shift();
    }
    return undefined;
  }
}
