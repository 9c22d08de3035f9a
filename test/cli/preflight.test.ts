/**
 * Preflight (issue 13): `pdr run` against the real state + planner (no runner: nothing could run anyway)
 * with a base dir broken one way at a time. Each problem: exactly one error line naming the key and the
 * path, exit 2, no grid row in the database, no job event in the stream. A sound config submitted the
 * same way does create a grid and its events (so the checks for "nothing" can fail).
 * Skipped (with a message) when NATS or MariaDB is not reachable.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { names } from '@pdr/contracts';
import { NATS_URL, natsReachable, reachable } from '../support/env';
import { startStack, type Stack } from '../support/stack';
import { testDatabaseSettings } from '../support/database';
import { MOCK_BASE, pdr, REPO, tmpDir } from './helpers';

jest.setTimeout(120_000);

describe('preflight before a grid is submitted', () => {
  let stack: Stack | null = null;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const db = testDatabaseSettings();
    if (!(await natsReachable(NATS_URL)) || !(await reachable(db.host, db.port))) {
      console.warn(`preflight test skipped: NATS (${NATS_URL}) or MariaDB (${db.host}:${db.port}) not reachable`);
      return;
    }
    stack = await startStack({ runners: 0 });
    dir = tmpDir('pdr-preflight-');
    env = { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: stack.ns };
  });

  afterAll(async () => {
    if (!stack) return;
    await stack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the mock base dir, broken by `breakIt`, and a config using it. */
  function setUp(name: string, breakIt: (base: string) => void, extra = ''): { cfg: string; base: string } {
    const base = path.join(dir, name, 'kt');
    fs.mkdirSync(path.dirname(base), { recursive: true });
    execFileSync('cp', ['-a', MOCK_BASE, base]);
    breakIt(base);
    const cfg = path.join(dir, name, 'grid.yaml');
    fs.writeFileSync(
      cfg,
      ['pdr:', `  base_dir: ${base}`, '  chem_database: chem_rates_mock.dat', `  model_name: ${name}`, 'storage:', `  base_dir: ${path.join(dir, name, 'storage')}`, 'model_parameters:', '  dens: ["30", "40"]', '  species: ["CO", "C+"]', extra, ''].join('\n'),
    );
    return { cfg, base };
  }

  async function gridCount(): Promise<number> {
    const r = await stack!.client.request('gridList', { v: 1, limit: 1000 });
    return r.grids.length;
  }

  async function eventCount(): Promise<number> {
    const jsm = await stack!.nc.jetstreamManager();
    try {
      return (await jsm.streams.info(names(stack!.ns).jobStream)).state.messages;
    } catch {
      return 0; // no stream yet: no event either
    }
  }

  const cases: Array<[string, (base: string) => void, (base: string) => RegExp]> = [
    ['base dir missing', (b) => fs.rmSync(b, { recursive: true }), (b) => new RegExp(`^pdr: error: pdr\\.base_dir ${b}: directory not found$`)],
    ['base dir a file', (b) => (fs.rmSync(b, { recursive: true }), fs.writeFileSync(b, 'x')), (b) => new RegExp(`^pdr: error: pdr\\.base_dir ${b}: not a directory$`)],
    ['PDR executable missing', (b) => fs.rmSync(path.join(b, 'mockpdr')), (b) => new RegExp(`^pdr: error: pdr\\.pdr_file_name ${b}/mockpdr: PDR executable not found$`)],
    ['PDR executable not executable', (b) => fs.chmodSync(path.join(b, 'mockpdr'), 0o644), (b) => new RegExp(`^pdr: error: pdr\\.pdr_file_name ${b}/mockpdr: PDR executable is not executable`)],
    ['onion executable missing', (b) => fs.rmSync(path.join(b, 'mockonion')), (b) => new RegExp(`^pdr: error: pdr\\.onion_file_name ${b}/mockonion: onion executable not found$`)],
    ['chemistry file missing', (b) => fs.rmSync(path.join(b, 'pdrinpdata', 'chem_rates_mock.dat')), (b) => new RegExp(`^pdr: error: pdr\\.chem_database ${b}/pdrinpdata/chem_rates_mock\\.dat: chemistry file not found$`)],
    ['PDRNEW template missing', (b) => fs.rmSync(path.join(b, 'templates', 'PDRNEW.INP.template')), () => /^pdr: error: pdr\.pdrinp_template_file PDRNEW\.INP\.template: PDRNEW template not found in /],
    ['onion input missing', (b) => fs.rmSync(path.join(b, 'onioninpdata', 'ONION3.INP.C+')), (b) => new RegExp(`^pdr: error: model_parameters\\.species ${b}/onioninpdata/ONION3\\.INP\\.C\\+: onion input of species C\\+ not found$`)],
  ];

  it.each(cases)('%s: one line naming key and path, exit 2, no grid row, no event', async (name, breakIt, expected) => {
    if (!stack) return;
    const { cfg, base } = setUp(name.replace(/\W+/g, '_'), breakIt);
    for (const args of [['run', '--config', cfg, '--detach'], ['run', '--config', cfg, '--dry-run'], ['check', '--config', cfg]]) {
      const r = await pdr(args, { env, cwd: dir });
      expect({ args, code: r.code, stderr: r.stderr.split('\n').filter(Boolean) }).toEqual({ args, code: 2, stderr: [expect.stringMatching(expected(base))] });
    }
    expect(await gridCount()).toBe(0);
    expect(await eventCount()).toBe(0);
  });

  it('a misspelt pdrinp_template_file in the config is named with the key', async () => {
    if (!stack) return;
    const { cfg } = setUp('misspelt', () => undefined);
    const text = fs.readFileSync(cfg, 'utf8').replace('pdr:\n', 'pdr:\n  pdrinp_template_file: PDRNEW.INP.tmplate\n');
    fs.writeFileSync(cfg, text);
    const r = await pdr(['run', '--config', cfg], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^pdr: error: pdr\.pdrinp_template_file PDRNEW\.INP\.tmplate: PDRNEW template not found in .*--json-only/)]);
    expect(await gridCount()).toBe(0);
    const json = await pdr(['run', '--config', cfg, '--json-only', '--dry-run'], { env, cwd: dir });
    expect(json.code).toBe(0);
    expect(json.stderr).toMatch(/^pdr: warning: pdr\.pdrinp_template_file PDRNEW\.INP\.tmplate: PDRNEW template not found .*will not be written/m);
  });

  it('several problems: one line each', async () => {
    if (!stack) return;
    const { cfg } = setUp('several', (b) => {
      fs.rmSync(path.join(b, 'mockpdr'));
      fs.rmSync(path.join(b, 'onioninpdata', 'ONION3.INP.CO'));
    });
    const r = await pdr(['run', '--config', cfg], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^pdr: error: pdr\.pdr_file_name .*mockpdr: PDR executable not found$/),
      expect.stringMatching(/^pdr: error: model_parameters\.species .*ONION3\.INP\.CO: onion input of species CO not found$/),
    ]);
    expect(await gridCount()).toBe(0);
  });

  it('--remote-runners (or pdr.remote_runners) turns the base-dir checks into warnings "the runners must see it at this path"', async () => {
    if (!stack) return;
    const { cfg, base } = setUp('remote', (b) => fs.rmSync(b, { recursive: true }));
    const r = await pdr(['check', '--config', cfg, '--remote-runners'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([`pdr: warning: pdr.base_dir ${base}: directory not found; the runners must see it at this path`]);
    expect(r.stdout).toMatch(/^ok: grid "remote" of 2 point\(s\)/);
    const viaConfig = setUp('remote2', (b) => fs.rmSync(b, { recursive: true }));
    fs.writeFileSync(viaConfig.cfg, fs.readFileSync(viaConfig.cfg, 'utf8').replace('pdr:\n', 'pdr:\n  remote_runners: true\n'));
    const c = await pdr(['run', '--config', viaConfig.cfg, '--dry-run'], { env, cwd: dir });
    expect(c.code).toBe(0);
    expect(c.stderr).toContain('the runners must see it at this path');
    expect(await gridCount()).toBe(0);
  });

  it('a sound config is submitted: a grid row and its events (the checks above can see them)', async () => {
    if (!stack) return;
    const { cfg } = setUp('sound', () => undefined);
    const ok = await pdr(['check', '--config', cfg], { env, cwd: dir });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const r = await pdr(['run', '--config', cfg, '--detach'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(await gridCount()).toBe(1);
    expect(await eventCount()).toBe(2);
  });

  it('a runner repeats the checks on its machine and fails the point with the same line', async () => {
    if (!stack) return;
    // submitted around the CLI (straight to the planner), as from a machine whose files differ from the runner's
    const broken = setUp('runner_side', (b) => {
      fs.rmSync(path.join(b, 'templates', 'PDRNEW.INP.template'));
      fs.rmSync(path.join(b, 'mockonion'));
    });
    const gone = path.join(dir, 'runner_side', 'no-such-base');
    const runner = await stack.addRunner();
    try {
      const expected: Array<[string, string]> = [
        [broken.base, `pdr.pdrinp_template_file PDRNEW.INP.template: PDRNEW template not found in ${broken.base}/templates, ${broken.base}/pdrinpdata/templates, ${broken.base} (to run from pdr_config.json alone: --json-only or pdr.json_only: true)`],
        [gone, `pdr.base_dir ${gone}: directory not found`],
      ];
      for (const [baseDir, line] of expected) {
        const sub = await stack.client.request('gridSubmit', { v: 1, request: stack.request({ modelName: `rs_${expected.findIndex((e) => e[0] === baseDir)}`, axes: { dens: ['30'], chi: ['10'] }, run: { baseDir } }) });
        const idle = await stack.waitIdle(sub.gridId);
        expect(idle.grid.counts.failed).toBe(1);
        const { jobs } = await stack.client.request('jobsQuery', { v: 1, gridId: sub.gridId });
        expect(jobs.map((j) => [j.status, j.reason])).toEqual([['failed', line]]);
      }
      // the onion executable (checked after the templates): the runner's reason and the CLI's error are one line
      fs.copyFileSync(path.join(MOCK_BASE, 'templates', 'PDRNEW.INP.template'), path.join(broken.base, 'templates', 'PDRNEW.INP.template'));
      const sub = await stack.client.request('gridSubmit', { v: 1, request: stack.request({ modelName: 'rs_onion', axes: { dens: ['30'], chi: ['10'] }, run: { baseDir: broken.base } }) });
      await stack.waitIdle(sub.gridId);
      const { jobs } = await stack.client.request('jobsQuery', { v: 1, gridId: sub.gridId });
      expect(jobs.map((j) => j.reason)).toEqual([`pdr.onion_file_name ${broken.base}/mockonion: onion executable not found`]);
      const cli = await pdr(['check', '--config', broken.cfg], { env, cwd: dir });
      expect(cli.stderr.trim()).toBe(`pdr: error: pdr.onion_file_name ${broken.base}/mockonion: onion executable not found`);
    } finally {
      await runner.close(5_000);
      stack.runners.splice(stack.runners.indexOf(runner), 1);
    }
  });

  it('a base dir this user cannot read is an error (checked as an unprivileged user)', async () => {
    if (!stack) return;
    const { cfg, base } = setUp('unreadable', (b) => fs.chmodSync(b, 0o700));
    // root reads everything: the CLI runs as "nobody", who can reach the repository and the config (and cannot
    // write the storage folder beside the base dir: that is test/cli/storage-check.test.ts's, left out here)
    fs.chmodSync(path.join(dir, 'unreadable'), 0o755);
    fs.chmodSync(dir, 0o755);
    const nobody = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
    const { spawnSync } = await import('child_process');
    const r = spawnSync(process.execPath, [path.join(REPO, 'apps/cli/dist/main.js'), 'check', '--config', cfg, '--no-storage-check'], {
      uid: nobody,
      gid: nobody,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([`pdr: error: pdr.base_dir ${base}: directory not readable (permission denied)`]);
  });
});
