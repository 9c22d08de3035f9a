import type { Logger } from '@pdr/logging';
import { randomBytes } from 'crypto';
import { hostname } from 'os';

/** A service instance's id in logs, claims and health answers: `<service>@<host>:<pid>:<6 hex>`. */
export function newInstanceId(service: string): string {
  return `${service}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * A service started by `pdr up` has an IPC channel to it (stdio 'ipc'). When `pdr up` ends in any way —
 * also SIGKILL, which it cannot catch, while its children run in process groups of their own — the
 * channel closes and the service sends itself SIGTERM: the same graceful stop as a Ctrl-C (before the
 * signal handlers are installed, SIGTERM simply ends the process). Without a channel (started by hand, by
 * systemd…) nothing changes. The channel does not keep the process alive.
 */
export function stopWhenSupervisorGone(): void {
  if (typeof process.send !== 'function') return;
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}

/** SIGTERM/SIGINT → close once, then exit; a second signal exits at once. */
export function closeOnSignals(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    logger.info({ signal: sig }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
