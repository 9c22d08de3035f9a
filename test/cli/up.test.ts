/**
 * `pdr up` with stand-in services (tiny node scripts that answer health.ping like the real ones, found
 * through PDR_APPS_DIR): starts state, planner and N runners, prefixes their lines, says "stack is up"
 * once health sees them all, stops them on SIGTERM, and stops everything when one dies.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { NATS_URL, natsReachable, testNamespace } from '../support/env';
import { CLI, expectOneLineError, pdr, REPO, tmpDir } from './helpers';

const FAKE_SERVICE = `
'use strict';
const { connect } = require(${JSON.stringify(require.resolve('nats', { paths: [REPO] }))});
const service = process.env.FAKE_SERVICE_NAME;
(async () => {
  const nc = await connect({ servers: process.env.PDR_NATS_URL });
  const ns = process.env.PDR_NATS_PREFIX;
  const instanceId = service + '-' + process.pid;
  nc.subscribe(ns + '.health.ping', {
    callback: (err, m) => {
      if (err || !m.reply) return;
      m.respond(JSON.stringify({ service, instanceId, version: 'fake', startedAt: new Date().toISOString(), detail: {} }));
    },
  });
  console.log('pid=' + process.pid + ' args=' + process.argv.slice(2).join(' ') + ' workdir=' + (process.env.PDR_WORK_DIR || '-') + ' format=' + process.env.PDR_LOG_FORMAT);
  const stop = (sig) => { console.log('got ' + sig); nc.drain().then(() => process.exit(0)); };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (service === 'runner' && process.env.FAKE_RUNNER_DIES_AFTER_MS) {
    setTimeout(() => { console.error('fake runner crashing'); process.exit(7); }, Number(process.env.FAKE_RUNNER_DIES_AFTER_MS));
  }
})();
`;

function makeAppsDir(dir: string): string {
  const apps = path.join(dir, 'apps');
  for (const s of ['state', 'planner', 'runner', 'web']) {
    fs.mkdirSync(path.join(apps, s, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(apps, s, 'dist', 'main.js'), `process.env.FAKE_SERVICE_NAME = ${JSON.stringify(s)};\n${FAKE_SERVICE}`);
  }
  return apps;
}


interface Up {
  proc: ChildProcess;
  out: () => string;
  waitFor: (re: RegExp) => Promise<void>;
  exited: Promise<number | null>;
}

function startUp(args: string[], env: Record<string, string>, cwd: string): Up {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_'))) as Record<string, string>;
  const proc = spawn(process.execPath, [CLI, 'up', ...args], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) {
      if (!w.re.test(text)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    proc,
    out: () => text,
    exited,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(text)) return resolve();
        waiters.push({ re, resolve });
        void exited.then(() => (re.test(text) ? resolve() : reject(new Error(`pdr up exited without ${re}:\n${text}`))));
      }),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('pdr up', () => {
  let dir: string;
  let apps: string;
  let nats = false;
  beforeAll(async () => {
    dir = tmpDir('pdr-cli-up-');
    apps = makeAppsDir(dir);
    nats = await natsReachable(NATS_URL);
    if (!nats) console.warn(`pdr up tests skipped: no NATS at ${NATS_URL}`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fails clearly when the services are not built', async () => {
    expectOneLineError(await pdr(['up'], { env: { PDR_APPS_DIR: path.join(dir, 'nothing-here') } }), 3, /state\/dist\/main\.js is missing: run npm run build/);
  });

  it('starts state, planner and N runners, prefixes their logs, stops them on SIGTERM', async () => {
    if (!nats) return;
    const cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(cfg, 'database:\n  database: pdr_up_test\n');
    const up = startUp(['--config', 'c.yaml', '--runners', '2', '--concurrency', '3', '--work-dir', 'work', '--grace', '5'], { PDR_APPS_DIR: apps, PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('up') }, dir);
    try {
      await up.waitFor(/stack is up/);
      const text = up.out();
      expect(text).toMatch(new RegExp(`^\\[state\\] pid=\\d+ args=--config ${cfg} workdir=- format=text$`, 'm'));
      expect(text).toMatch(/^\[planner\] pid=\d+ args= /m);
      for (const r of ['runner-1', 'runner-2']) expect(text).toMatch(new RegExp(`^\\[${r}\\] pid=\\d+ args=--concurrency 3 workdir=${path.join(dir, 'work')} `, 'm'));
      const pids = [...text.matchAll(/^\[[a-z0-9-]+\] pid=(\d+)/gm)].map((m) => Number(m[1]));
      expect(pids).toHaveLength(4);
      up.proc.kill('SIGTERM');
      expect(await up.exited).toBe(0);
      for (const n of ['state', 'planner', 'runner-1', 'runner-2']) expect(up.out()).toMatch(new RegExp(`^\\[${n}\\] got SIGTERM$`, 'm'));
      expect(up.out()).toMatch(/stack stopped/);
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      up.proc.kill('SIGKILL');
    }
  });

  it('--web also starts the dashboard once the stack is up, with its port and host, and stops it', async () => {
    if (!nats) return;
    const up = startUp(['--web', '--web-port', '0', '--grace', '5'], { PDR_APPS_DIR: apps, PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('up') }, dir);
    try {
      await up.waitFor(/^\[web\] pid=\d+ args=--port 0 --host 127\.0\.0\.1 /m);
      expect(up.out().indexOf('stack is up')).toBeLessThan(up.out().indexOf('[web] pid='));
      up.proc.kill('SIGTERM');
      expect(await up.exited).toBe(0);
      expect(up.out()).toMatch(/^\[web\] got SIGTERM$/m);
    } finally {
      up.proc.kill('SIGKILL');
    }
  });

  it('a service that dies stops the others, exit 1 naming it', async () => {
    if (!nats) return;
    const up = startUp(['--grace', '5'], { PDR_APPS_DIR: apps, PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('up'), FAKE_RUNNER_DIES_AFTER_MS: '3000' }, dir);
    try {
      expect(await up.exited).toBe(1);
      expect(up.out()).toMatch(/^pdr: error: runner-1 exited unexpectedly \(exit code 7\); stopping the others$/m);
      expect(up.out()).toMatch(/^\[state\] got SIGTERM$/m);
      expect(up.out()).toMatch(/^\[planner\] got SIGTERM$/m);
    } finally {
      up.proc.kill('SIGKILL');
    }
  });
});
