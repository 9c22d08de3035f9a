import { createServer, Server } from 'http';
import type { AddressInfo } from 'net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '@pdr/logging';

export { Counter, Gauge, Histogram, Registry };

/**
 * Prometheus metrics of a service (prom-client, text format on GET /metrics). Off unless a port is
 * given: `--metrics-port N` or PDR_METRICS_PORT (0 = any free port, printed in the "metrics at" log
 * line); bound to PDR_METRICS_HOST (default 127.0.0.1; 0.0.0.0 for a Prometheus on another machine).
 * Labels stay low-cardinality: subject names, statuses, programs, never a job or grid id.
 */
export interface MetricsSettings {
  port: number | null;
  host: string;
}

/** Latency buckets (seconds) for requests and publishes: 1 ms … 30 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Duration buckets (seconds) for jobs and their steps: 0.1 s … 1 day. */
export const DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400];

export class MetricsUsageError extends Error {
  override name = 'MetricsUsageError';
}

function port(value: string, name: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new MetricsUsageError(`${name} "${value}" must be a port number 0..65535 (0: any free port)`);
  return Number(value);
}

/**
 * Takes `--metrics-port N` (or `--metrics-port=N`) out of a service's arguments; PDR_METRICS_PORT when the
 * flag is absent (flag > environment). Returns the settings and the remaining arguments.
 */
export function takeMetricsArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { metrics: MetricsSettings; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--metrics-port') {
      if (argv[i + 1] === undefined) throw new MetricsUsageError('--metrics-port needs a value');
      value = port(argv[++i], '--metrics-port').toString();
    } else if (a.startsWith('--metrics-port=')) {
      value = port(a.slice('--metrics-port='.length), '--metrics-port').toString();
    } else rest.push(a);
  }
  const fromEnv = env.PDR_METRICS_PORT;
  const p = value !== undefined ? Number(value) : fromEnv !== undefined && fromEnv !== '' ? port(fromEnv, 'PDR_METRICS_PORT') : null;
  return { metrics: { port: p, host: env.PDR_METRICS_HOST || '127.0.0.1' }, rest };
}

/** A registry with the process metrics (CPU, memory, event-loop lag) and `service` on every series. */
export function newRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'pdr_' });
  return registry;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics of `registry`; everything else 404. */
export async function startMetricsServer(registry: Registry, settings: MetricsSettings & { port: number }, logger?: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => {
        logger?.warn({ err: err.message }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${err.message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new MetricsUsageError(`metrics port ${settings.port} on ${settings.host} is in use`) : err),
    );
    server.listen(settings.port, settings.host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  logger?.info({ metricsPort: actual, host: settings.host }, `metrics at http://${settings.host}:${actual}/metrics`);
  return {
    port: actual,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Declares a service's metrics on its registry, one call each (name, help, labels; buckets for a
 * histogram). A counter's `zeroes` (the known values of its one label) start at 0, so a dashboard shows
 * them before the first event. Used by every service's metrics class.
 */
export function metricsOn(registry: Registry) {
  return {
    counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], zeroes: readonly string[] = []): Counter<L> {
      const c = new Counter<L>({ name, help, labelNames, registers: [registry] });
      if (zeroes.length && labelNames.length !== 1) throw new Error(`${name}: zeroes need exactly one label`);
      for (const v of zeroes) c.inc({ [labelNames[0]]: v } as Partial<Record<L, string>>, 0);
      return c;
    },
    histogram<L extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
      return new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
    },
  };
}

/**
 * `pdr_request_duration_seconds{subject, outcome}`: every answered request of a contract service, by RPC
 * name (a fixed list) and 'ok' or the error code. Returns the observer for startContractService.
 */
export function requestMetrics(registry: Registry): (rpc: string, seconds: number, outcome: string) => void {
  const h = metricsOn(registry).histogram(
    'pdr_request_duration_seconds',
    'time from a request arriving to its reply, per contract subject and outcome (ok or the error code)',
    LATENCY_BUCKETS,
    ['subject', 'outcome'],
  );
  return (rpc, seconds, outcome) => h.observe({ subject: rpc, outcome }, seconds);
}
