/// <reference lib="dom" />
/**
 * The dashboard in a real browser: a grid runs through the real services (state, planner, a runner on
 * the mock KOSMA-tau), the web server is the built apps/web, the browser Debian's Chromium. The map
 * must show one cell per point in the colour of its status in the database, follow a job finishing,
 * open a point's stored files on a click, and cancel a grid from the page.
 */
import { existsSync, statSync } from 'fs';
import { join } from 'path';
import type { Browser, Page } from 'playwright-core';
import { JOB_STATUSES, progressEvent, ProgressEvent } from '@pdr/contracts';
import { decodeJson } from '@pdr/messaging';
import { pointOfJobName } from '@pdr/domain';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { runCli, stopAll, waitFor } from '../support/processes';
import { launchChromium, startWebProc, WebProc } from '../support/web';

jest.setTimeout(240_000);

let s: ProcStack;
let web: WebProc;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // one slot, a PDR run of 1.5 s: a grid takes long enough to watch; one point (dens 50, chi 20) exits 1
  s = await startProcStack({ prefix: 'w', runners: 1, concurrency: 1, env: { MOCK_PDR_SECONDS: '1.5', MOCK_PDR_FAIL_MATCH: '_50_-10_20_' } });
  web = await startWebProc(s.env);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await web?.proc.stop(5_000);
  await s?.close();
  await stopAll(1_000);
});

/** The canvas pixel at the centre of cell k, as [r, g, b]. */
async function pixelOfCell(k: number): Promise<number[]> {
  return page.evaluate((cell) => {
    const w = window as unknown as { pdr: { cellCentre(k: number): { x: number; y: number } } };
    const { x, y } = w.pdr.cellCentre(cell);
    const d = (document.querySelector('#map') as HTMLCanvasElement).getContext('2d')!.getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, k);
}

function hexRgb(h: string): number[] {
  return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
}

interface MapState {
  nx: number;
  ny: number;
  axes: Record<string, string[]>;
  status: number[];
  job: number[];
}
const mapState = () => page.evaluate(() => (window as unknown as { pdr: { map: MapState } }).pdr.map);

/** Cell index of a job on the dens × chi map. */
function cellOf(map: MapState, jobName: string): number {
  const p = pointOfJobName(jobName)!;
  return map.axes.chi.indexOf(p.chi) * map.nx + map.axes.dens.indexOf(p.dens);
}

it('shows a running grid on the map, follows it live, opens a point with its files', async () => {
  const events: { at: number; ev: ProgressEvent }[] = [];
  const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'web_map' }) });
  const gridId = sub.gridId;
  s.nc.subscribe(`${s.ns}.events.progress.${gridId}`, { callback: (_e, m) => events.push({ at: Date.now(), ev: progressEvent.parse(decodeJson(m.data)) }) });

  await page.goto(`${web.url}#/grid/${gridId}`);
  await page.waitForFunction(() => (window as unknown as { pdr: { ready: boolean } }).pdr.ready, undefined, { timeout: 30_000 });
  const first = await mapState();
  expect([first.nx, first.ny]).toEqual([3, 2]); // dens 30 40 50 × chi 10 20
  expect(first.status.filter((x) => x >= 0)).toHaveLength(6);

  // the next job that finishes after the page is up: its cell turns "finished" within 2 s of the event
  const readyAt = Date.now();
  const next = await waitFor('a job finishing while the page is open', () => events.find((e) => e.at > readyAt && e.ev.status === 'finished'), 60_000);
  const k = cellOf(first, next.ev.jobName);
  const finishedIdx = JOB_STATUSES.indexOf('finished');
  await page.waitForFunction(
    ([cell, st]) => (window as unknown as { pdr: { map: MapState } }).pdr.map.status[cell] === st,
    [k, finishedIdx] as const,
    { timeout: 10_000 },
  );
  const lag = Date.now() - next.at;
  console.log(`dashboard: cell of job ${next.ev.jobId} showed "finished" ${lag} ms after the progress event`);
  expect(lag).toBeLessThanOrEqual(2_000);

  const grid = await s.waitDone(gridId);
  expect(grid.counts.finished).toBe(5);
  expect(grid.counts.problem).toBe(1);
  // every cell in the database's status, in that status' colour
  const jobs = await s.jobs(gridId);
  await page.waitForFunction(
    (want) => {
      const m = (window as unknown as { pdr: { map: MapState } }).pdr.map;
      return m.status.filter((x) => x === want[0]).length === 5 && m.status.filter((x) => x === want[1]).length === 1;
    },
    [finishedIdx, JOB_STATUSES.indexOf('problem')] as const,
    { timeout: 10_000 },
  );
  const map = await mapState();
  expect(map.status.filter((x) => x >= 0)).toHaveLength(jobs.length);
  const colours = await page.evaluate(() => (window as unknown as { pdr: { statusColours: Record<string, string> } }).pdr.statusColours);
  for (const j of jobs) {
    const cell = cellOf(map, j.jobName);
    expect(JOB_STATUSES[map.status[cell]]).toBe(j.status);
    expect(map.job[cell]).toBe(j.jobId);
    expect(await pixelOfCell(cell)).toEqual(hexRgb(colours[j.status]));
  }
  expect(new Set(jobs.map((j) => colours[j.status])).size).toBe(2);
  // the same map in the terminal: one character per point, the database's statuses
  const cli = await runCli(['status', String(gridId), '--map', 'dens,chi'], { env: s.env });
  expect(cli.code).toBe(0);
  const mapLines = cli.stdout.split('\n');
  const mapRow = (chi: string) => mapLines.find((l) => l.trimStart().startsWith(`${chi} |`))!.split('|')[1];
  const ch = (j: (typeof jobs)[number]) => (j.status === 'finished' ? '#' : j.status === 'problem' ? 'P' : '?');
  for (const chi of ['10', '20']) {
    expect(mapRow(chi)).toBe(['30', '40', '50'].map((d) => ch(jobs.find((j) => j.jobName === `100_${d}_-10_${chi}_00`)!)).join(''));
  }
  expect(cli.stdout).toContain('# finished 5   P problem 1');
  const bad = await runCli(['status', String(gridId), '--map', 'dens,foo'], { env: s.env });
  expect([bad.code, bad.stderr.trim()]).toEqual([2, 'pdr: error: --map dens,foo: expected two of metal, dens, mass, chi separated by a comma, such as --map dens,chi']);
  const badAt = await runCli(['status', String(gridId), '--map', 'dens,chi', '--at', 'metal=7'], { env: s.env });
  expect(badAt.code).toBe(2);
  expect(badAt.stderr).toContain('--at metal=7: not a value of this grid (100)');

  // the summary on the page agrees
  await page.waitForFunction(() => document.querySelector('#sum-progress')?.textContent === '100 %', undefined, { timeout: 10_000 });
  // the progress bar and the legend are drawn (the page's CSP allows no style attributes: styles are set through CSSOM)
  const barWidths = await page.$$eval('#summary .bar span', (spans) => spans.map((x) => x.getBoundingClientRect().width));
  expect(barWidths.length).toBe(2);
  expect(barWidths.every((w) => w > 0)).toBe(true);

  // a click on a finished point opens it: attempts, and its stored files with sizes and checksums
  const done = jobs.find((j) => j.status === 'finished')!;
  const c = await page.evaluate((cell) => (window as unknown as { pdr: { cellCentre(k: number): { x: number; y: number } } }).pdr.cellCentre(cell), cellOf(map, done.jobName));
  await page.click('#map', { position: c });
  await page.waitForSelector('#job-files tbody tr');
  expect(await page.textContent('#job-title')).toContain(done.jobName);
  const rows = await page.$$eval('#job-files tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
  const files = done.files!;
  expect(rows).toHaveLength(files.length);
  for (const f of files) expect(rows).toContainEqual([f.fileName, String(f.size), `${f.sha256.slice(0, 16)}…`]);
  expect(await page.textContent('#job-textout')).toMatch(/\S/);
  expect(await page.textContent('#job-attempts')).toContain('"pdr":0');

  // hover: the tooltip names the point's values and status
  await page.mouse.move(0, 0);
  const box = (await page.$('#map'))!;
  await box.hover({ position: c });
  expect(await page.textContent('#tip')).toContain(`dens = ${pointOfJobName(done.jobName)!.dens}`);

  const shot = join(s.root, 'dashboard-map.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(existsSync(shot) && statSync(shot).size > 1000).toBe(true);
  console.log(`dashboard: screenshot ${shot}`);

  // retry the failed point from the page: it runs again (and fails again: the mock still makes it exit 1)
  const problem = jobs.find((j) => j.status === 'problem')!;
  page.once('dialog', (d) => void d.accept());
  await page.click('#retry');
  await page.waitForFunction(() => /1 point\(s\) queued again/.test(document.querySelector('#action-result')?.textContent ?? ''), undefined, { timeout: 15_000 });
  await waitFor('the retried point to end its second attempt', async () => {
    const j = (await s.jobs(gridId)).find((x) => x.jobId === problem.jobId)!;
    return j.attempt === 2 && j.status === 'problem';
  }, 60_000, 250);
  // colour by attempts: the retried cell shows 2, the others 1
  await page.selectOption('#sel-colour', 'attempts');
  await page.waitForFunction(
    (cell) => {
      const m = (window as unknown as { pdr: { ready: boolean; map: MapState & { colour: string; value: (number | null)[] } } }).pdr;
      return m.ready && m.map.colour === 'attempts' && m.map.value[cell] === 2;
    },
    cellOf(map, problem.jobName),
    { timeout: 15_000 },
  );
  const attempts = await page.evaluate(() => (window as unknown as { pdr: { map: { value: (number | null)[] } } }).pdr.map.value);
  expect([...attempts].sort()).toEqual([1, 1, 1, 1, 1, 2]);

  // the grids list shows it with its counts
  await page.goto(`${web.url}#/`);
  const row = await page.waitForSelector(`tr[data-grid="${gridId}"]`);
  expect(await row.textContent()).toContain('web_map');
});

it('cancels a grid from the page, after a confirmation', async () => {
  const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'web_cancel', axes: { dens: ['30', '40', '50', '60'], chi: ['10', '20', '30'] } }) });
  const gridId = sub.gridId;
  await page.goto(`${web.url}#/grid/${gridId}`);
  await page.waitForFunction(() => (window as unknown as { pdr: { ready: boolean } }).pdr.ready, undefined, { timeout: 30_000 });
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await page.click('#cancel');
  await page.waitForFunction(() => /cancelled/.test(document.querySelector('#action-result')?.textContent ?? ''), undefined, { timeout: 15_000 });
  expect(asked).toContain(`Cancel the unfinished points of grid ${gridId}`);
  const grid = await s.waitDone(gridId);
  expect(grid.counts.cancelled).toBeGreaterThan(0);
  expect(grid.counts.pending + grid.counts.queued + grid.counts.running).toBe(0);
  // the map shows exactly the database's cancelled points
  const cancelledIdx = JOB_STATUSES.indexOf('cancelled');
  await page.waitForFunction(
    ([want, st]) => (window as unknown as { pdr: { map: MapState } }).pdr.map.status.filter((x) => x === st).length === want,
    [grid.counts.cancelled, cancelledIdx] as const,
    { timeout: 10_000 },
  );
});
