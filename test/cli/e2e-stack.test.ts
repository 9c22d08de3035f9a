/**
 * The CLI against the real services: `pdr up` (state on a database of its own, planner, 2 runners with
 * the mock KOSMA-tau), then `pdr run`, `pdr health`, `pdr jobs --csv`, `pdr retry` as a user types them.
 * Skipped (with a message) when NATS or MariaDB is not reachable.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { databaseEnv, dropDatabase } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { deleteJobStream, NATS_URL, reachable, testNamespace } from '../support/env';
import { CLI, MOCK_BASE, parseCsv, pdr, tmpDir } from './helpers';

jest.setTimeout(180_000);


describe('pdr against the real stack', () => {
  const db = testDatabaseSettings();
  const ns = testNamespace('clie2e');
  let dir: string;
  let cfg: string;
  let up: ChildProcess | null = null;
  let upOut = '';
  let upExit: Promise<number | null>;
  let env: Record<string, string>;

  beforeAll(async () => {
    const u = new URL(NATS_URL);
    if (!(await reachable(u.hostname, Number(u.port || 4222))) || !(await reachable(db.host, db.port))) {
      console.warn(`CLI end-to-end test skipped: NATS (${NATS_URL}) or MariaDB (${db.host}:${db.port}) not reachable`);
      return;
    }
    dir = tmpDir('pdr-cli-e2e-');
    cfg = path.join(dir, 'grid.yaml');
    fs.writeFileSync(
      cfg,
      [
        'pdr:',
        `  base_dir: ${MOCK_BASE}`,
        '  chem_database: chem_rates_mock.dat',
        'storage:',
        '  base_dir: storage',
        'model_parameters:',
        '  dens: ["30", "40", "50"]',
        '  chi: ["10", "20"]',
        '  species: ["CO", "C+"]',
        '',
      ].join('\n'),
    );
    env = {
      PDR_NATS_URL: NATS_URL,
      PDR_NATS_PREFIX: ns,
      ...databaseEnv(db),
    };
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_') && !k.startsWith('MOCK_'))) as Record<string, string>;
    // the mock PDR fails every point with dens "50" (its job directory name contains _50_)
    up = spawn(process.execPath, [CLI, 'up', '--runners', '2', '--concurrency', '2', '--work-dir', 'work'], {
      cwd: dir,
      env: { ...base, ...env, MOCK_PDR_FAIL_MATCH: '_50_' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    upExit = new Promise((resolve) => up!.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        upOut += d.toString();
        if (upOut.includes('stack is up')) resolve();
      };
      up!.stdout!.on('data', onData);
      up!.stderr!.on('data', onData);
      void upExit.then(() => reject(new Error(`pdr up ended before the stack was up:\n${upOut}`)));
    });
  });

  afterAll(async () => {
    if (!up) return;
    up.kill('SIGTERM');
    const code = await upExit;
    await dropDatabase(db);
    await deleteJobStream(ns);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('pdr health sees state, planner and both runners', async () => {
    if (!up) return;
    const r = await pdr(['health'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('runner '))).toHaveLength(2);
  });

  it('a clean grid: exit 0, outputs where the summary says; a resubmission runs nothing again', async () => {
    if (!up) return;
    const r = await pdr(['run', '--config', cfg, '--model-name', 'clean', '--dens', '30', '40'], { env, cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`storage: ${path.join(dir, 'storage', 'clean')}`);
    expect(r.stdout).toMatch(/^finished\s+4$/m);
    expect(fs.readdirSync(path.join(dir, 'storage', 'clean', 'pdrgrid'))).toContain('pdr100_40_-10_20_00.hdf');
    const again = await pdr(['run', '--config', cfg, '--model-name', 'clean', '--dens', '30', '40'], { env, cwd: dir, timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/4 point\(s\): 0 new, 0 queued, 4 already done/);
  });

  it('a grid with failing points: exit 1, the failed points listed; jobs --csv and retry', async () => {
    if (!up) return;
    const r = await pdr(['run', '--config', cfg, '--model-name', 'mixed'], { env, cwd: dir, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^finished\s+4$/m);
    expect(r.stdout).toMatch(/^problem\s+2$/m);
    expect(r.stdout).toMatch(/^100_50_-10_10_00\s+problem\s+1\s+PDR exited with code 1/m);
    expect(r.stdout).toMatch(/^100_50_-10_20_00\s+problem/m);

    const csv = await pdr(['jobs', '--grid', 'mixed', '--csv'], { env, cwd: dir });
    expect(csv.code).toBe(0);
    const [header, ...rows] = parseCsv(csv.stdout);
    expect(rows).toHaveLength(6);
    const col = (name: string) => rows.map((row) => row[header.indexOf(name)]);
    expect(new Set(col('xnsur'))).toEqual(new Set(['1000', '10000', '100000']));
    expect(col('status').sort()).toEqual(['finished', 'finished', 'finished', 'finished', 'problem', 'problem']);

    const retry = await pdr(['retry', 'mixed'], { env, cwd: dir });
    expect(retry.code).toBe(0);
    expect(retry.stdout).toMatch(/2 point\(s\) queued again/);
  });

  it('pdr up logs every service with its prefix', () => {
    if (!up) return;
    for (const p of ['[state] ', '[planner] ', '[runner-1] ', '[runner-2] ']) expect(upOut).toContain(p);
  });
});
