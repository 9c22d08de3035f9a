/// <reference lib="dom" />
/**
 * The map of a 10^5-point grid (316 densities × 316 FUV fields, planned by the real planner and state,
 * no runner) in Chromium: every point is a cell, and the time from navigation to an interactive map is
 * measured and reported — cold (the web server first loads the grid from state) and warm. The only
 * bound is a generous one (the goal, under 1 s warm on this machine, is reported, not asserted).
 */
import { LIMITS } from '@pdr/contracts';
import type { Browser } from 'playwright-core';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { stopAll } from '../support/processes';
import { launchChromium, startWebProc, WebProc } from '../support/web';

jest.setTimeout(600_000);

let s: ProcStack;
let web: WebProc;
let browser: Browser;

beforeAll(async () => {
  s = await startProcStack({ prefix: 'wb', runners: 0 });
  web = await startWebProc(s.env);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await web?.proc.stop(5_000);
  await s?.close();
  await stopAll(1_000);
});

const axis = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));

it('shows a 10^5-point grid as one cell per point, interactive quickly', async () => {
  const request = s.request({ modelName: 'web_big', axes: { metal: ['100'], mass: ['-10'], dens: axis(0, 316), chi: axis(-100, 316) } });
  const t0 = Date.now();
  const sub = await s.client.request('gridSubmit', { v: 1, request, maxPoints: 200_000 }, { timeoutMs: 10 * LIMITS.BATCH_REQUEST_TIMEOUT_MS });
  expect(sub.total).toBe(316 * 316);
  console.log(`big map: planned ${sub.total} points in ${Date.now() - t0} ms`);

  const measure = async (label: string) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const start = Date.now();
    await page.goto(`${web.url}#/grid/${sub.gridId}`);
    await page.waitForFunction(() => (window as unknown as { pdr: { ready: boolean } }).pdr.ready, undefined, { timeout: 120_000 });
    const wall = Date.now() - start;
    const inPage = await page.evaluate(() => Math.round((window as unknown as { pdr: { readyAt: number } }).pdr.readyAt));
    // interactive: hovering a cell shows its values at once
    const c = await page.evaluate(() => (window as unknown as { pdr: { cellCentre(k: number): { x: number; y: number } } }).pdr.cellCentre(316 * 316 - 1));
    await (await page.$('#map'))!.hover({ position: c });
    const tip = await page.textContent('#tip');
    const map = await page.evaluate(() => {
      const m = (window as unknown as { pdr: { map: { nx: number; ny: number; status: number[] } } }).pdr.map;
      return { nx: m.nx, ny: m.ny, cells: m.status.filter((x) => x >= 0).length };
    });
    console.log(`big map (${label}): ${map.cells} cells interactive ${wall} ms after navigation (in-page ${inPage} ms from navigation start)`);
    await page.close();
    return { wall, map, tip };
  };
  const cold = await measure('cold: the web server loads the grid from state');
  const warm = await measure('warm: the grid already in the web server');
  const loaded = web.proc.lines.find((l) => l.includes('grid loaded for its map'));
  console.log(`big map: the web server's load: ${loaded}`);
  for (const r of [cold, warm]) {
    expect(r.map).toEqual({ nx: 316, ny: 316, cells: 316 * 316 });
    expect(r.tip).toContain('dens = 315');
    expect(r.tip).toContain('chi = 215');
    expect(r.wall).toBeLessThan(60_000); // generous: the figure is what matters
  }
});
