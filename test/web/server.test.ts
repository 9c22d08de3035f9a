/// <reference lib="dom" />
/**
 * The dashboard server's door: loopback by default, a token for anything else (asked once, kept in an
 * HttpOnly cookie), no cross-site actions, one-line errors with exit code 2 for bad flags. Real NATS;
 * no state service runs here, so an authorized API call meets "state is not running" (503), not 401.
 */
import { NATS_URL, testNamespace } from '../support/env';
import { runCli, stopAll } from '../support/processes';
import { launchChromium, startWebProc, WebProc } from '../support/web';

jest.setTimeout(60_000);

let web: WebProc;
const TOKEN = 'web-test-token-3f9a';

beforeAll(async () => {
  web = await startWebProc({ PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('w'), PDR_WEB_TOKEN: TOKEN, PDR_METRICS_PORT: '0', PDR_METRICS_HOST: '127.0.0.1' });
});
afterAll(async () => {
  await web?.proc.stop(5_000);
  await stopAll(1_000);
});

it('serves the page to anyone and the API only with the token', async () => {
  const page = await fetch(web.url);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<script src="/app.js">');
  expect((await fetch(`${web.url}api/grids`)).status).toBe(401);
  expect((await fetch(`${web.url}api/grids`, { headers: { cookie: 'pdr_web_token=wrong' } })).status).toBe(401);
  expect(await (await fetch(`${web.url}api/session`)).json()).toEqual({ tokenRequired: true, authorized: false });

  const wrong = await fetch(`${web.url}api/session`, { method: 'POST', headers: { 'x-pdr-web': '1' }, body: JSON.stringify({ token: 'nope' }) });
  expect(wrong.status).toBe(401);
  const login = await fetch(`${web.url}api/session`, { method: 'POST', headers: { 'x-pdr-web': '1' }, body: JSON.stringify({ token: TOKEN }) });
  expect(login.status).toBe(200);
  const cookie = login.headers.get('set-cookie')!;
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  const authed = await fetch(`${web.url}api/grids`, { headers: { cookie: cookie.split(';')[0] } });
  expect(authed.status).toBe(503);
  expect((await authed.json()).error).toMatch(/state service/);
  expect((await fetch(`${web.url}api/grids`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(503);
  // the token never reaches the log
  expect(web.proc.output()).not.toContain(TOKEN);
});

it('refuses actions without its own header (another site cannot post a form to it)', async () => {
  const r = await fetch(`${web.url}api/grids/1/cancel`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{}' });
  expect(r.status).toBe(403);
  expect((await r.json()).error).toMatch(/X-PDR-Web/);
});

it('answers only to a loopback Host name (no DNS rebinding) and names bad input', async () => {
  const port = new URL(web.url).port;
  const r = await new Promise<number>((resolve, reject) => {
    const http = require('http') as typeof import('http');
    http.get({ host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}` } }, (res) => resolve(res.statusCode!)).on('error', reject);
  });
  expect(r).toBe(403);
  const bad = await fetch(`${web.url}api/grids/abc`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(bad.status).toBe(400);
  expect((await bad.json()).error).toBe('grid id "abc" is not a positive integer');
});

it('serves its own metrics: requests per route and status code', async () => {
  await fetch(`${web.url}api/grids`); // 401
  const port = /metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(web.proc.output())![1];
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const count = (route: string, code: string) => Number(new RegExp(`^pdr_web_request_duration_seconds_count\\{[^}]*route="${route}",code="${code}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  expect(count('grids', '401')).toBeGreaterThanOrEqual(2);
  expect(count('grids', '503')).toBeGreaterThanOrEqual(1);
  expect(count('page', '200')).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(/^pdr_web_event_streams\{service="web"\} 0$/m);
  expect(text).not.toContain(TOKEN);
});

it('the page asks for the token once; the cookie keeps it', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(web.url);
    await page.waitForSelector('#login[open]');
    await page.fill('#login-token', 'wrong');
    await page.click('#login-form button');
    await page.waitForFunction(() => document.querySelector('#login-error')?.textContent === 'wrong token');
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button');
    // in: the API answers (no state service runs here, so the page names that one)
    await page.waitForFunction(() => /state service/.test(document.querySelector('#conn')?.textContent ?? ''), undefined, { timeout: 15_000 });
    expect(await page.$('#login[open]')).toBeNull();
    await page.reload();
    await page.waitForFunction(() => /state service/.test(document.querySelector('#conn')?.textContent ?? ''), undefined, { timeout: 15_000 });
    expect(await page.$('#login[open]')).toBeNull();
  } finally {
    await browser.close();
  }
});

it('pdr web: a non-loopback address without PDR_WEB_TOKEN and a bad port are usage errors (exit 2)', async () => {
  const env = { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('w') };
  const open = await runCli(['web', '--host', '0.0.0.0', '--port', '0'], { env });
  expect(open.code).toBe(2);
  expect(open.stderr.trim()).toBe('web: error: --host 0.0.0.0 is not a loopback address: set PDR_WEB_TOKEN to a secret (the page asks for it once)');
  const port = await runCli(['web', '--port', 'http'], { env });
  expect(port.code).toBe(2);
  expect(port.stderr).toMatch(/--port/);
});
