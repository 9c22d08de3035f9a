import { connect, NatsConnection } from 'nats';

/** NATS URL from PDR_NATS_URL, default the local server. */
export function natsUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.PDR_NATS_URL || 'nats://127.0.0.1:4222';
}

/** Reconnect wait: short enough that a restarted nats-server is found again within seconds. */
const RECONNECT_WAIT_MS = 500;

/**
 * Connects with endless reconnects: a service outlives a restart of nats-server (in-flight requests fail
 * and are retried by their callers; JetStream keeps the job events).
 */
export async function connectNats(opts: { url?: string; name: string; reconnect?: boolean }): Promise<NatsConnection> {
  const url = opts.url ?? natsUrlFromEnv();
  try {
    return await connect({
      servers: url,
      name: opts.name,
      maxReconnectAttempts: opts.reconnect === false ? 0 : -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      waitOnFirstConnect: false,
      // nats.js otherwise captures up to three stack traces per request (for an async trace on a
      // timeout): with 10^5 job-event publishes that was over half of the planner's CPU (npm run bench,
      // docs/benchmarks.md). Our errors name the subject and the service instead.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new NatsUnavailableError(`cannot reach NATS at ${url} (${(err as Error).message}); start nats-server with JetStream (-js) or set PDR_NATS_URL`);
  }
}

export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}
