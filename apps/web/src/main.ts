import { parseArgs } from 'util';
import { createLogger } from '@pdr/logging';
import { closeOnSignals, MetricsSettings, takeMetricsArgs } from '@pdr/messaging/client';
import { startWeb, WebUsageError } from './server';

export { startWeb, isLoopback, WebUsageError } from './server';
export type { RunningWeb, WebOptions } from './server';

/** `--port N --host H`; a bad value is a one-line error naming the flag. */
export function parseWebArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { port: number; host: string; metrics: MetricsSettings } {
  let values: { port?: string; host?: string };
  let metrics: MetricsSettings;
  try {
    const taken = takeMetricsArgs(argv, env);
    metrics = taken.metrics;
    ({ values } = parseArgs({ args: taken.rest, options: { port: { type: 'string' }, host: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new WebUsageError(`${(err as Error).message} (usage: main.js [--port 8080] [--host 127.0.0.1] [--metrics-port N])`);
  }
  const port = values.port ?? '8080';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new WebUsageError(`--port ${port}: expected a port number 0..65535`);
  const host = values.host ?? '127.0.0.1';
  if (!host) throw new WebUsageError('--host: expected an address');
  return { port: Number(port), host, metrics };
}

/** `node apps/web/dist/main.js [--port 8080] [--host 127.0.0.1]`: PDR_NATS_URL, PDR_NATS_PREFIX, PDR_WEB_TOKEN. */
if (require.main === module) {
  const logger = createLogger('web');
  let args: ReturnType<typeof parseWebArgs>;
  try {
    args = parseWebArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`web: error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  startWeb({ ...args, token: process.env.PDR_WEB_TOKEN || null, logger }).then(
    (w) => {
      process.stdout.write(`dashboard: ${w.url}\n`);
      closeOnSignals(logger, () => w.close());
    },
    (err) => {
      if (err instanceof WebUsageError) {
        process.stderr.write(`web: error: ${err.message}\n`);
        process.exit(2);
      }
      logger.fatal({ err: (err as Error).message }, 'web failed to start');
      process.exit(err?.name === 'NatsUnavailableError' ? 3 : 1);
    },
  );
}
