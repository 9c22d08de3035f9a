import type { ServerResponse } from 'http';
import { GridMapReply, GridSummary, JOB_STATUSES, names, progressEvent, TERMINAL_STATUSES } from '@pdr/contracts';
import { ContractClient, decodeJson } from '@pdr/messaging/client';
import type { Logger } from '@pdr/logging';
import type { NatsConnection, Subscription } from 'nats';
import { GridModel, MapView } from '@pdr/map';

/** How often changed cells go out to the browsers (events are batched: a burst of 1000 finishes is one message). */
export const FLUSH_MS = 200;
/** How often a watched grid's counts are compared with the database: progress events are informational and may be missed. */
export const RESYNC_MS = 5_000;
/** An idle event stream gets a comment line this often, so proxies and browsers keep it open. */
export const KEEPALIVE_MS = 15_000;
/** A grid nobody watches any more is dropped from memory after this long. */
export const IDLE_DROP_MS = 60_000;

export interface Subscriber {
  res: ServerResponse;
  view: MapView;
}

/** Rate (points ended per second since the first start) and the time left at that rate. */
export function rateAndEta(counts: Record<string, number>, total: number, firstStartedAt: string | null, now = Date.now()): { done: number; rate: number | null; etaSeconds: number | null } {
  const done = TERMINAL_STATUSES.reduce((s, st) => s + (counts[st] ?? 0), 0);
  const started = firstStartedAt ? Date.parse(firstStartedAt) : NaN;
  const elapsed = (now - started) / 1000;
  const rate = Number.isFinite(elapsed) && elapsed > 0 && done > 0 ? done / elapsed : null;
  const left = total - done;
  return { done, rate, etaSeconds: rate && left > 0 ? Math.round(left / rate) : left === 0 ? 0 : null };
}

/** A grid summary with progress figures for the page. */
export function withProgress(g: GridSummary, now = Date.now()) {
  return { ...g, ...rateAndEta(g.counts, g.total, g.firstStartedAt, now) };
}

/** One watched grid: its model, the browsers following it, its progress-event subscription. */
class WatchedGrid {
  model!: GridModel;
  summary!: GridSummary;
  readonly subscribers = new Set<Subscriber>();
  private readonly dirty = new Set<number>();
  private flushTimer: NodeJS.Timeout | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private sub: Subscription | null = null;
  dropTimer: NodeJS.Timeout | null = null;
  ready: Promise<void>;

  constructor(
    readonly gridId: number,
    private readonly hub: GridHub,
  ) {
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    // subscribe first, then load: an event between the two is applied twice at worst (idempotent)
    this.sub = this.hub.nc.subscribe(names(this.hub.client.ns).progress(this.gridId), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const ev = progressEvent.parse(decodeJson(msg.data));
          if (!this.model) return;
          if (ev.status === 'running' && this.summary.firstStartedAt === null) this.summary = { ...this.summary, firstStartedAt: ev.at };
          const i = this.model.apply(ev);
          if (i >= 0) this.markDirty(i);
        } catch (e) {
          this.hub.logger.debug({ err: (e as Error).message }, 'malformed progress event ignored');
        }
      },
    });
    await this.reload();
    this.resyncTimer = setInterval(() => void this.resync(), RESYNC_MS);
    this.resyncTimer.unref();
  }

  async reload(): Promise<void> {
    const t0 = Date.now();
    const pages: GridMapReply[] = [];
    let afterId = 0;
    for (;;) {
      const page = await this.hub.client.request('gridMap', { v: 1, gridId: this.gridId, afterId });
      pages.push(page);
      if (page.nextAfterId === null) break;
      afterId = page.nextAfterId;
    }
    const { grid } = await this.hub.client.request('gridStatus', { v: 1, selector: { gridId: this.gridId } });
    this.summary = grid;
    const t1 = Date.now();
    this.model = new GridModel(pages);
    this.hub.logger.info({ gridId: this.gridId, points: this.model.n, pages: pages.length, fetchMs: t1 - t0, buildMs: Date.now() - t1 }, 'grid loaded for its map');
    for (const s of this.subscribers) {
      s.view = new MapView(this.model, s.view.spec);
      this.hub.sendFull(s, this);
    }
  }

  /** The database's counts against the model's: a missed event (or a grid grown by a new submit) reloads. */
  private async resync(): Promise<void> {
    if (!this.subscribers.size || !this.model) return;
    try {
      const { grid } = await this.hub.client.request('gridStatus', { v: 1, selector: { gridId: this.gridId } });
      const mine = this.model.counts();
      const same = grid.total === this.model.n + this.model.unplaced && JOB_STATUSES.every((s, i) => grid.counts[s] === mine[i]);
      this.summary = grid;
      if (!same) await this.reload();
    } catch (err) {
      this.hub.logger.warn({ gridId: this.gridId, err: (err as Error).message }, 'grid resync failed');
    }
  }

  markDirty(i: number): void {
    this.dirty.add(i);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    if (!this.dirty.size) return;
    const points = [...this.dirty];
    this.dirty.clear();
    const summary = this.liveSummary();
    for (const s of this.subscribers) {
      const cells = s.view.delta(points);
      if (cells.length) {
        this.hub.send(s.res, 'delta', { cells });
        this.hub.onCellsSent?.(cells.length / 5);
      }
      this.hub.send(s.res, 'summary', summary);
    }
  }

  /** The summary with counts from the model (as current as the last event). */
  liveSummary() {
    const c = this.model.counts();
    const counts = Object.fromEntries(JOB_STATUSES.map((s, i) => [s, c[i]])) as GridSummary['counts'];
    return withProgress({ ...this.summary, counts, total: this.model.n + this.model.unplaced });
  }

  close(): void {
    this.sub?.unsubscribe();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.dropTimer) clearTimeout(this.dropTimer);
    for (const s of this.subscribers) s.res.end();
  }
}

/** The grids the browsers look at, each loaded once and shared by every browser following it. */
export class GridHub {
  private readonly grids = new Map<number, WatchedGrid>();
  /** Told how many changed cells went to a browser (metrics). */
  onCellsSent?: (n: number) => void;

  /** Open event streams. */
  streams(): number {
    let n = 0;
    for (const g of this.grids.values()) n += g.subscribers.size;
    return n;
  }

  /** Grids held in memory. */
  loaded(): number {
    return this.grids.size;
  }

  constructor(
    readonly nc: NatsConnection,
    readonly client: ContractClient,
    readonly logger: Logger,
  ) {}

  /** The grid's model, loaded if needed (a failed load is forgotten so the next request tries again). */
  async get(gridId: number): Promise<WatchedGrid> {
    let g = this.grids.get(gridId);
    if (!g) {
      g = new WatchedGrid(gridId, this);
      this.grids.set(gridId, g);
      const created = g;
      created.ready.catch(() => {
        created.close();
        if (this.grids.get(gridId) === created) this.grids.delete(gridId);
      });
      this.scheduleDrop(created);
    }
    await g.ready;
    return g;
  }

  subscribe(g: WatchedGrid, s: Subscriber): void {
    g.subscribers.add(s);
    if (g.dropTimer) clearTimeout(g.dropTimer);
    g.dropTimer = null;
    this.sendFull(s, g);
    const keepAlive = setInterval(() => s.res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    keepAlive.unref();
    s.res.on('close', () => {
      clearInterval(keepAlive);
      g.subscribers.delete(s);
      if (!g.subscribers.size) this.scheduleDrop(g);
    });
  }

  private scheduleDrop(g: WatchedGrid): void {
    if (g.dropTimer) clearTimeout(g.dropTimer);
    g.dropTimer = setTimeout(() => {
      if (g.subscribers.size) return;
      g.close();
      if (this.grids.get(g.gridId) === g) this.grids.delete(g.gridId);
    }, IDLE_DROP_MS);
    g.dropTimer.unref();
  }

  sendFull(s: Subscriber, g: WatchedGrid): void {
    const v = s.view;
    this.send(s.res, 'full', {
      x: v.spec.x,
      y: v.spec.y,
      colour: v.spec.colour,
      fixed: v.spec.fixed,
      axes: g.model.axes,
      statuses: JOB_STATUSES,
      unplaced: g.model.unplaced,
      ...v.cells(),
    });
    this.send(s.res, 'summary', g.liveSummary());
  }

  send(res: ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    for (const g of this.grids.values()) g.close();
    this.grids.clear();
  }
}

export type { WatchedGrid };
