/**
 * The dashboard for browser tests: the built web server as a child process on a free port, and
 * Debian's Chromium driven by playwright-core (never a downloaded browser; .ci/services/chromium.sh
 * installs it).
 */
import { existsSync } from 'fs';
import { join } from 'path';
import type { Browser } from 'playwright-core';
import { cleanEnv, Proc, REPO, spawnProc } from './processes';

export const WEB_MAIN = join(REPO, 'apps/web/dist/main.js');
export const CHROMIUM = process.env.PDR_TEST_CHROMIUM || '/usr/bin/chromium';

export interface WebProc {
  proc: Proc;
  url: string;
}

/** Starts `node apps/web/dist/main.js --port 0` with the stack's environment; resolves with its address. */
export async function startWebProc(env: Record<string, string>, args: string[] = []): Promise<WebProc> {
  if (!existsSync(WEB_MAIN)) throw new Error(`${WEB_MAIN} is missing: run npm run build first`);
  const proc = spawnProc(process.execPath, [WEB_MAIN, '--port', '0', ...args], { name: 'web', env: cleanEnv({ PDR_LOG_LEVEL: 'info', PDR_LOG_FORMAT: 'json', ...env }) });
  const line = await proc.waitForLine(/^dashboard: http/, 30_000);
  return { proc, url: line.replace(/^dashboard: /, '').trim() };
}

/** Chromium headless (as root: --no-sandbox). A missing browser is a failure that says how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/services/chromium.sh) or set PDR_TEST_CHROMIUM`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
