import { GridSummary, names, progressEvent, ProgressEvent } from '@pdr/contracts';
import { decodeJson, ServiceUnavailableError } from '@pdr/messaging/client'; // loaded lazily by pdr run
import { Session } from '../context';
import { CliError, EXIT, howToStart } from '../errors';
import { ProgressView, tally } from '../output/progress';

export interface WatchOptions {
  /** Poll interval of state.grid.status (the truth; events only wake the loop early). */
  pollMs?: number;
  /** Give up after state has not answered for this long. */
  unavailableGiveUpMs?: number;
  /** Stop watching (Ctrl-C); the grid keeps running. */
  signal?: AbortSignal;
  /** Failure lines printed as they happen (the full list comes at the end). */
  maxFailureLines?: number;
}

/** Progress events wake the poll loop, but polls stay at least this far apart. */
const MIN_POLL_GAP_MS = 250;

export type WatchResult = { kind: 'done'; grid: GridSummary } | { kind: 'aborted'; grid: GridSummary | null };

/** No point waits or runs any more. */
export function gridSettled(g: GridSummary): boolean {
  return g.counts.pending + g.counts.queued + g.counts.running === 0;
}

/**
 * Follows a grid until no point is pending, queued or running: polls state.grid.status about every
 * second (events can be missed; the status query is the truth) and wakes early on progress events.
 */
export async function watchGrid(s: Session, gridId: number, view: ProgressView, opts: WatchOptions = {}): Promise<WatchResult> {
  const pollMs = opts.pollMs ?? 1000;
  const giveUp = opts.unavailableGiveUpMs ?? 120_000;
  const maxFailureLines = opts.maxFailureLines ?? 20;
  let wake: (() => void) | null = null;
  /** Waits `pollMs`; a progress event (or abort) shortens the wait to MIN_POLL_GAP_MS after the last poll. */
  const sleepUntilWoken = (ms: number, since: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      let timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = () => {
        clearTimeout(timer);
        wake = null;
        timer = setTimeout(finish, signal?.aborted ? 0 : Math.max(0, MIN_POLL_GAP_MS - (Date.now() - since)));
      };
    });
  let failureLines = 0;
  const sub = s.nc.subscribe(names(s.ns).progress(gridId), {
    callback: (err, msg) => {
      if (err) return;
      let ev: ProgressEvent;
      try {
        const parsed = progressEvent.safeParse(decodeJson(msg.data));
        if (!parsed.success) return;
        ev = parsed.data;
      } catch {
        return;
      }
      if ((ev.status === 'failed' || ev.status === 'problem') && failureLines < maxFailureLines) {
        failureLines++;
        view.message(`${ev.jobName}: ${ev.status}${ev.reason ? ` — ${ev.reason}` : ''}`, true);
        if (failureLines === maxFailureLines) view.message('(further failures are listed at the end)', true);
      }
      wake?.();
    },
  });
  const onAbort = () => wake?.();
  opts.signal?.addEventListener('abort', onAbort);
  let last: GridSummary | null = null;
  let unavailableSince: number | null = null;
  let polledAt = 0;
  try {
    for (;;) {
      if (opts.signal?.aborted) return { kind: 'aborted', grid: last };
      polledAt = Date.now();
      try {
        const { grid } = await s.client.request('gridStatus', { selector: { gridId } });
        last = grid;
        if (unavailableSince !== null) view.message('pdr: state answers again', true);
        unavailableSince = null;
        view.update(tally(grid.total, grid.counts));
        if (gridSettled(grid)) return { kind: 'done', grid };
      } catch (err) {
        if (!(err instanceof ServiceUnavailableError)) throw err;
        const now = Date.now();
        if (unavailableSince === null) {
          unavailableSince = now;
          view.message(`pdr: warning: ${err.message}; still trying (the grid keeps running)`, true);
        } else if (now - unavailableSince > giveUp) {
          throw new CliError(
            `the state service has not answered for ${Math.round(giveUp / 1000)} s; stopped watching grid ${gridId} (it keeps running: pdr status ${gridId}); ${howToStart('state')}`,
            EXIT.SERVICE_MISSING,
          );
        }
      }
      if (opts.signal?.aborted) return { kind: 'aborted', grid: last };
      await sleepUntilWoken(pollMs, polledAt, opts.signal);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    sub.unsubscribe();
  }
}
