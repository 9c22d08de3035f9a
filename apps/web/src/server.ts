import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo, isIP } from 'net';
import { createHash, timingSafeEqual } from 'crypto';
import { open, readFile } from 'fs/promises';
import { join } from 'path';
import { ContractError, namespaceFromEnv, RpcReply } from '@pdr/contracts';
import { connectNats, ContractClient, Counter, Gauge, Histogram, LATENCY_BUCKETS, MetricsServer, MetricsSettings, natsUrlFromEnv, newRegistry, ServiceUnavailableError, startMetricsServer } from '@pdr/messaging/client';
import { createLogger, type Logger } from '@pdr/logging';
import type { NatsConnection } from 'nats';
import { GridHub, withProgress } from './hub';
import { MapView, parseViewSpec, ViewError } from '@pdr/map';

export interface WebOptions {
  host?: string;
  port?: number;
  /** Required when `host` is not a loopback address: the page asks for it once (a cookie keeps it). */
  token?: string | null;
  natsUrl?: string;
  ns?: string;
  logger?: Logger;
  /** Prometheus /metrics (off unless a port is given; see takeMetricsArgs). */
  metrics?: MetricsSettings;
}

export interface RunningWeb {
  url: string;
  port: number;
  metricsPort: number | null;
  close(): Promise<void>;
}

/** Bad options of the web server (exit code 2 in main). */
export class WebUsageError extends Error {
  override name = 'WebUsageError';
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** How many bytes of TEXTOUT the point panel shows. */
export const TEXTOUT_TAIL_BYTES = 8_192;
/** Points listed for a cell that aggregates several. */
export const CELL_POINTS_LIMIT = 500;
const COOKIE = 'pdr_web_token';
const PUBLIC_DIR = join(__dirname, '..', 'public');
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The route of a request, as a metrics label (a fixed set). */
function routeOf(method: string, path: string): string {
  if (!path.startsWith('/api/')) return 'page';
  if (path === '/api/session') return 'session';
  if (path === '/api/grids') return 'grids';
  if (/^\/api\/grids\/[^/]+$/.test(path)) return 'grid';
  if (/\/stream$/.test(path)) return 'stream';
  if (/\/cell$/.test(path)) return 'cell';
  if (/^\/api\/jobs\//.test(path)) return 'job';
  if (method === 'POST' && /\/(cancel|retry)$/.test(path)) return path.endsWith('cancel') ? 'cancel' : 'retry';
  return 'other';
}

/** The dashboard's own metrics: requests per route and status, open event streams, grids held in memory. */
function webMetrics(hub: GridHub) {
  const registry = newRegistry('web');
  const requests = new Histogram({
    name: 'pdr_web_request_duration_seconds',
    help: 'HTTP requests of the dashboard by route and status code (event streams: time to open)',
    labelNames: ['route', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({ name: 'pdr_web_event_streams', help: 'open server-sent event streams (browsers following a map)', registers: [registry], collect() { this.set(hub.streams()); } });
  new Gauge({ name: 'pdr_web_grids_loaded', help: 'grids held in memory for their maps', registers: [registry], collect() { this.set(hub.loaded()); } });
  const cellUpdates = new Counter({ name: 'pdr_web_cell_updates_total', help: 'changed cells sent to browsers', registers: [registry] });
  return { registry, requests, cellUpdates };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(data);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 16_384) throw new HttpError(413, 'request body larger than 16 KiB');
    chunks.push(c as Buffer);
  }
  if (!size) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new HttpError(400, `request body is not a JSON object (${(err as Error).message})`);
  }
}

function positiveId(s: string, what: string): number {
  if (!/^\d{1,10}$/.test(s) || Number(s) < 1) throw new HttpError(400, `${what} "${s}" is not a positive integer`);
  return Number(s);
}

/** The last bytes of a stored TEXTOUT, when this machine sees the file as it was recorded (same size). */
async function textoutTail(job: RpcReply<'jobGet'>['job']): Promise<{ file: string; text: string } | { file: string | null; unavailable: string }> {
  const files = job.files ?? [];
  const f = files.find((x) => x.role === 'textout') ?? files.find((x) => x.fileName === `TEXTOUT${job.jobName}`);
  if (!f) return { file: null, unavailable: 'no TEXTOUT stored for this job' };
  let fh;
  try {
    fh = await open(f.fullPath, 'r');
  } catch (err) {
    return { file: f.fileName, unavailable: `the storage does not serve it to this machine (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` };
  }
  try {
    const st = await fh.stat();
    if (st.size !== f.size) return { file: f.fileName, unavailable: `the file at ${f.fullPath} here is not the stored one (size ${st.size}, recorded ${f.size})` };
    const len = Math.min(TEXTOUT_TAIL_BYTES, st.size);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, st.size - len);
    return { file: f.fileName, text: buf.toString('utf8') };
  } finally {
    await fh.close();
  }
}

/**
 * The dashboard: a plain HTTP server (static page + JSON API + server-sent events), a NATS client of
 * state and planner like the CLI. Loopback only unless a token is given.
 */
export async function startWeb(o: WebOptions = {}): Promise<RunningWeb> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 8080;
  const token = o.token || null;
  const loopback = isLoopback(host);
  if (!loopback && !token) {
    throw new WebUsageError(`--host ${host} is not a loopback address: set PDR_WEB_TOKEN to a secret (the page asks for it once)`);
  }
  const logger = o.logger ?? createLogger('web');
  const ns = o.ns ?? namespaceFromEnv();
  const nc: NatsConnection = await connectNats({ url: o.natsUrl ?? natsUrlFromEnv(), name: 'pdr-web' });
  const client = new ContractClient(nc, ns);
  const hub = new GridHub(nc, client, logger);
  const metrics = o.metrics && o.metrics.port !== null ? webMetrics(hub) : undefined;
  if (metrics) hub.onCellsSent = (n) => metrics.cellUpdates.inc(n);
  const tokenDigest = token ? digest(token) : null;
  const files = new Map<string, Buffer>();
  for (const f of new Set(Object.values(STATIC))) files.set(f, await readFile(join(PUBLIC_DIR, f)));

  const authorized = (req: IncomingMessage): boolean => {
    if (!tokenDigest) return true;
    const auth = req.headers.authorization;
    let given: string | undefined = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (given === undefined) {
      for (const part of (req.headers.cookie ?? '').split(';')) {
        const [k, ...v] = part.trim().split('=');
        if (k === COOKIE) given = decodeURIComponent(v.join('='));
      }
    }
    return given !== undefined && timingSafeEqual(digest(given), tokenDigest);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    // a page of another site must not reach a loopback dashboard through DNS rebinding
    if (loopback) {
      const h = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!LOOPBACK_NAMES.has(h) && !(isIP(h) === 4 && h.startsWith('127.'))) throw new HttpError(403, `host "${h}" is not this dashboard's address`);
    }
    if (req.method === 'GET' && STATIC[path]) {
      const name = STATIC[path];
      res.writeHead(200, {
        'content-type': TYPES[name.split('.').pop()!],
        'cache-control': 'no-cache',
        'content-security-policy': "default-src 'self'; img-src 'self' data:",
        'x-content-type-options': 'nosniff',
      });
      res.end(files.get(name));
      return;
    }
    if (!path.startsWith('/api/')) throw new HttpError(404, `${path}: no such page`);
    if (req.method === 'POST') {
      // only the page's own script sends this header (another site's form cannot): no cross-site actions
      if (req.headers['x-pdr-web'] !== '1') throw new HttpError(403, 'missing X-PDR-Web header');
    }
    if (path === '/api/session') {
      if (req.method === 'GET') return sendJson(res, 200, { tokenRequired: !!tokenDigest, authorized: authorized(req) });
      if (req.method !== 'POST') throw new HttpError(405, 'use GET or POST');
      const body = await readJsonBody(req);
      if (!tokenDigest) return sendJson(res, 200, { authorized: true });
      if (typeof body.token !== 'string' || !timingSafeEqual(digest(body.token), tokenDigest)) throw new HttpError(401, 'wrong token');
      res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(body.token)}; HttpOnly; SameSite=Strict; Path=/`);
      return sendJson(res, 200, { authorized: true });
    }
    if (!authorized(req)) throw new HttpError(401, 'token required');

    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/api/grids') {
      const limit = url.searchParams.has('limit') ? positiveId(url.searchParams.get('limit')!, 'limit') : 100;
      const { grids } = await client.request('gridList', { v: 1, limit: Math.min(limit, 1000) });
      const now = Date.now();
      return sendJson(res, 200, { grids: grids.map((g) => withProgress(g, now)) });
    }
    if (req.method === 'GET' && (m = /^\/api\/grids\/([^/]+)$/.exec(path))) {
      const g = await hub.get(positiveId(m[1], 'grid id'));
      return sendJson(res, 200, { grid: g.liveSummary(), axes: g.model.axes, unplaced: g.model.unplaced });
    }
    if (req.method === 'GET' && (m = /^\/api\/grids\/([^/]+)\/stream$/.exec(path))) {
      const g = await hub.get(positiveId(m[1], 'grid id'));
      const view = new MapView(g.model, parseViewSpec(url.searchParams, g.model));
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n\n');
      hub.subscribe(g, { res, view });
      return;
    }
    if (req.method === 'GET' && (m = /^\/api\/grids\/([^/]+)\/cell$/.exec(path))) {
      const g = await hub.get(positiveId(m[1], 'grid id'));
      const view = new MapView(g.model, parseViewSpec(url.searchParams, g.model));
      const k = Number(url.searchParams.get('k'));
      if (!Number.isInteger(k) || k < 0 || k >= view.nx * view.ny) throw new HttpError(400, `k=${url.searchParams.get('k')}: not a cell of this view (0..${view.nx * view.ny - 1})`);
      const pts = view.pointsIn(k);
      const list = [...pts.subarray(0, CELL_POINTS_LIMIT)].map((i) => ({ jobId: g.model.ids[i], status: g.model.status[i], attempts: g.model.attempts[i], axes: [0, 1, 2, 3].map((q) => g.model.ax[i * 4 + q]) }));
      return sendJson(res, 200, { total: pts.length, points: list });
    }
    if (req.method === 'GET' && (m = /^\/api\/jobs\/([^/]+)$/.exec(path))) {
      const r = await client.request('jobGet', { v: 1, jobId: positiveId(m[1], 'job id') });
      return sendJson(res, 200, { ...r, textout: await textoutTail(r.job) });
    }
    if (req.method === 'POST' && (m = /^\/api\/grids\/([^/]+)\/(cancel|retry)$/.exec(path))) {
      const gridId = positiveId(m[1], 'grid id');
      const body = await readJsonBody(req);
      if (m[2] === 'cancel') {
        const r = await client.request('plannerCancel', { v: 1, selector: { gridId }, kill: body.kill === true });
        logger.info({ gridId, cancelled: r.cancelled, kill: body.kill === true }, 'grid cancelled from the dashboard');
        return sendJson(res, 200, r);
      }
      const r = await client.request('plannerRetry', { v: 1, selector: { gridId } });
      logger.info({ gridId, queued: r.queued }, 'failed points retried from the dashboard');
      return sendJson(res, 200, r);
    }
    throw new HttpError(404, `${req.method} ${path}: no such endpoint`);
  };

  const server: Server = createServer((req, res) => {
    if (metrics) {
      const end = metrics.requests.startTimer({ route: routeOf(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname) });
      const done = () => end({ code: String(res.statusCode) });
      res.once('finish', done);
      // an event stream stays open: its time is the time to open it
      const origWriteHead = res.writeHead.bind(res);
      if ((req.url ?? '').includes('/stream')) {
        res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
          const r = origWriteHead(...args);
          res.removeListener('finish', done);
          done();
          return r;
        }) as typeof res.writeHead;
      }
    }
    handle(req, res).catch((err: unknown) => {
      let status = 500;
      let message = 'internal error';
      if (err instanceof HttpError) [status, message] = [err.status, err.message];
      else if (err instanceof ViewError) [status, message] = [400, err.message];
      else if (err instanceof ContractError) [status, message] = [err.code === 'NOT_FOUND' ? 404 : err.code === 'BAD_REQUEST' ? 400 : 502, err.message];
      else if (err instanceof ServiceUnavailableError) [status, message] = [503, err.message];
      else logger.error({ err: (err as Error).message, path: req.url }, 'request failed');
      if (res.headersSent) res.end();
      else sendJson(res, status, { error: message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new WebUsageError(`port ${port} on ${host} is in use: choose another with --port`) : err.code === 'EADDRNOTAVAIL' ? new WebUsageError(`--host ${host}: not an address of this machine`) : err),
    );
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  let metricsServer: MetricsServer | undefined;
  try {
    if (metrics) metricsServer = await startMetricsServer(metrics.registry, { ...o.metrics!, port: o.metrics!.port! }, logger);
  } catch (err) {
    server.close();
    hub.close();
    await nc.close();
    throw err;
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${actual}/`;
  logger.info({ url, ns, token: tokenDigest ? 'required' : 'none (loopback)' }, `dashboard at ${url}`);
  return {
    url,
    port: actual,
    metricsPort: metricsServer?.port ?? null,
    async close() {
      await metricsServer?.close();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await nc.drain().catch(() => undefined);
    },
  };
}

