import { randomBytes } from 'crypto';
import * as net from 'net';

/** Service URLs for tests: from the environment, defaulting to the local services. */
export const NATS_URL = process.env.PDR_NATS_URL || 'nats://127.0.0.1:4222';

/** A namespace of its own per test file, so parallel test files never hear each other. */
export function testNamespace(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** True when a TCP connection to host:port opens within a second (a service is listening). */
export function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** True when the NATS server of `url` accepts TCP connections. */
export function natsReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return reachable(u.hostname, Number(u.port || 4222));
}

/** Deletes a namespace's job stream (tests that start services through the CLI clean up after them). */
export async function deleteJobStream(ns: string, url: string = NATS_URL): Promise<void> {
  const { connect } = await import('nats');
  const { names } = await import('@pdr/contracts');
  const nc = await connect({ servers: url, reconnect: false });
  try {
    await (await nc.jetstreamManager()).streams.delete(names(ns).jobStream).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
