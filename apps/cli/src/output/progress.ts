import { StatusCounts } from '@pdr/contracts';
import { formatDuration, formatRate } from './format';
import { Io } from './io';

/**
 * The user's view of the status counts: done (finished/skipped), problem (an executable exited ≠ 0),
 * failed (the point could not be run: setup, storage, timeout), running, queued (pending/queued).
 * `problem` and `failed` are different words for different things (pdr help statuses) and never summed
 * under one of them.
 */
export interface ProgressTally {
  total: number;
  done: number;
  problem: number;
  failed: number;
  cancelled: number;
  running: number;
  queued: number;
}

export function tally(total: number, c: StatusCounts): ProgressTally {
  return {
    total,
    done: c.finished + c.skipped,
    problem: c.problem,
    failed: c.failed,
    cancelled: c.cancelled,
    running: c.running,
    queued: c.pending + c.queued,
  };
}

export function terminalCount(t: ProgressTally): number {
  return t.done + t.problem + t.failed + t.cancelled;
}

/** One progress line; with `barWidth` > 0 a [####....] bar first. */
export function progressLine(t: ProgressTally, rate: number, etaMs: number | null, barWidth = 0): string {
  const finished = terminalCount(t);
  const parts: string[] = [];
  if (barWidth > 0) {
    const frac = t.total > 0 ? finished / t.total : 1;
    const filled = Math.min(barWidth, Math.floor(frac * barWidth));
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`);
  }
  const width = String(t.total).length;
  parts.push(`${String(finished).padStart(width)}/${t.total}`);
  parts.push(`done ${t.done}`);
  if (t.problem > 0) parts.push(`problem ${t.problem}`);
  parts.push(`failed ${t.failed}`);
  if (t.cancelled > 0) parts.push(`cancelled ${t.cancelled}`);
  parts.push(`running ${t.running}`, `queued ${t.queued}`);
  parts.push(formatRate(rate));
  parts.push(`ETA ${etaMs === null ? '-' : formatDuration(etaMs)}`);
  return parts.join('  ');
}

export interface ProgressViewOptions {
  now?: () => number;
  /** Non-TTY: the least time between two printed lines (a change waits for it). */
  plainMinIntervalMs?: number;
  /** Non-TTY: print even without a change after this long (so a log shows the run is alive). */
  plainHeartbeatMs?: number;
}

/**
 * Live progress: on a terminal one line redrawn in place; otherwise a plain line on change (at most
 * every few seconds) and a heartbeat line now and then. Rate and ETA count the points that reached a
 * terminal status since watching started.
 */
export class ProgressView {
  private readonly now: () => number;
  private readonly startedAt: number;
  private baseline: number | null = null;
  private lastKey = '';
  private lastPrintAt = -Infinity;
  private drawn = false;
  private last: ProgressTally | null = null;

  constructor(
    private readonly io: Io,
    private readonly opts: ProgressViewOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Points per second reaching a terminal status since watching started. */
  rate(t: ProgressTally): number {
    const elapsed = (this.now() - this.startedAt) / 1000;
    if (this.baseline === null || elapsed <= 0) return 0;
    return (terminalCount(t) - this.baseline) / elapsed;
  }

  eta(t: ProgressTally): number | null {
    const r = this.rate(t);
    const remaining = t.total - terminalCount(t);
    if (remaining <= 0) return 0;
    return r > 0 ? (remaining / r) * 1000 : null;
  }

  update(t: ProgressTally): void {
    if (this.baseline === null) this.baseline = terminalCount(t);
    this.last = t;
    const key = JSON.stringify(t);
    if (this.io.isTTY) {
      const rate = this.rate(t);
      const eta = this.eta(t);
      // the bar takes what the numbers leave of the terminal width (at most 30, none below 5)
      const room = this.io.columns - 1 - progressLine(t, rate, eta, 0).length - 4;
      const barWidth = room >= 5 ? Math.min(30, room) : 0;
      const line = progressLine(t, rate, eta, barWidth).slice(0, Math.max(10, this.io.columns - 1));
      this.io.write(`\r${line}\x1b[K`);
      this.drawn = true;
      this.lastKey = key;
      return;
    }
    const now = this.now();
    const changed = key !== this.lastKey;
    const minGap = this.opts.plainMinIntervalMs ?? 3000;
    const heartbeat = this.opts.plainHeartbeatMs ?? 30000;
    if ((changed && now - this.lastPrintAt >= minGap) || now - this.lastPrintAt >= heartbeat) {
      this.io.out(progressLine(t, this.rate(t), this.eta(t)));
      this.lastPrintAt = now;
      this.lastKey = key;
    }
  }

  /** Ends the live line (TTY) or prints the last state if it was not printed yet (plain). */
  finish(): void {
    if (this.io.isTTY) {
      if (this.drawn) this.io.write('\n');
      this.drawn = false;
      return;
    }
    if (this.last && JSON.stringify(this.last) !== this.lastKey) {
      this.io.out(progressLine(this.last, this.rate(this.last), this.eta(this.last)));
      this.lastKey = JSON.stringify(this.last);
    }
  }

  /** A message that must not be glued onto the live line. */
  message(line: string, toStderr = false): void {
    if (this.io.isTTY && this.drawn) {
      this.io.write('\r\x1b[K');
      this.drawn = false;
    }
    if (toStderr) this.io.err(line);
    else this.io.out(line);
  }
}
