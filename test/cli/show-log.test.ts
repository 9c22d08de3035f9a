/**
 * `pdr show` and `pdr log` on a finished, a failed and a running point, against the real state, planner
 * and a runner with the mock KOSMA-tau (in this process: the mock's knobs are read from this process's
 * environment when a point starts). Skipped (with a message) when NATS or MariaDB is not reachable.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { testDatabaseSettings } from '../support/database';
import { NATS_URL, natsReachable, reachable } from '../support/env';
import { startStack, type Stack } from '../support/stack';
import { CLI, MOCK_BASE, parseCsv, pdr, tmpDir } from './helpers';

jest.setTimeout(180_000);

const MOCK_KNOBS = ['MOCK_PDR_FAIL_MATCH', 'MOCK_PDR_HANG', 'MOCK_PDR_EXIT'];

describe('pdr show / pdr log', () => {
  let stack: Stack | null = null;
  let dir: string;
  let cfg: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const db = testDatabaseSettings();
    if (!(await natsReachable(NATS_URL)) || !(await reachable(db.host, db.port))) {
      console.warn(`show/log test skipped: NATS (${NATS_URL}) or MariaDB (${db.host}:${db.port}) not reachable`);
      return;
    }
    stack = await startStack({ runners: 1, concurrency: 2 });
    dir = tmpDir('pdr-show-');
    cfg = path.join(dir, 'grid.yaml');
    fs.writeFileSync(
      cfg,
      ['pdr:', `  base_dir: ${MOCK_BASE}`, '  chem_database: chem_rates_mock.dat', 'storage:', '  base_dir: storage', 'model_parameters:', '  chi: ["10"]', '  species: ["CO"]', ''].join('\n'),
    );
    env = { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: stack.ns };
  });

  afterAll(async () => {
    for (const k of MOCK_KNOBS) delete process.env[k];
    if (!stack) return;
    await stack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a finished and a failed point: attempts, exit codes, steps, stored files, TEXTOUT through storage', async () => {
    if (!stack) return;
    process.env.MOCK_PDR_FAIL_MATCH = '_40_';
    const run = await pdr(['run', '--config', cfg, '--model-name', 'shown', '--dens', '30', '40'], { env, cwd: dir, timeoutMs: 120_000 });
    delete process.env.MOCK_PDR_FAIL_MATCH;
    expect(run.code).toBe(1);

    const ok = await pdr(['show', '100_30_-10_10_00', '--model', 'shown'], { env, cwd: dir });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toMatch(/^job \d+ {2}100_30_-10_10_00 {2}model shown {2}grid \d+$/m);
    expect(ok.stdout).toMatch(/^status {6}finished$/m);
    expect(ok.stdout).toMatch(/^axes {8}metal=100 dens=30 mass=-10 chi=10$/m);
    expect(ok.stdout).toMatch(/^physics {5}zmetal=1 xnsur=1000 mass=0\.1 sint=10 /m);
    expect(ok.stdout).toMatch(/^\s+1 +runner@\S+ +\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d{4}-.* finished +pdr=0 CO=0/m);
    for (const step of ['setup-finished', 'pdr-started', 'pdr-finished', 'onion-finished', 'outputs-stored']) expect(ok.stdout).toContain(`  ${step}`);
    const storedTextout = path.join(dir, 'storage', 'shown', 'pdrgrid', 'TEXTOUT100_30_-10_10_00');
    const size = fs.statSync(storedTextout).size;
    expect(ok.stdout).toMatch(new RegExp(`^textout +TEXTOUT100_30_-10_10_00 +${size} +[0-9a-f]{16}…$`, 'm'));
    expect(ok.stdout).toMatch(/^last 10 lines of TEXTOUT \(stored shown\/pdrgrid\/TEXTOUT100_30_-10_10_00;/m);
    expect(ok.stdout).toMatch(/^ {2}End of PDR Job: /m);

    const bad = await pdr(['show', '100_40_-10_10_00', '--model', 'shown', '--wide'], { env, cwd: dir });
    expect(bad.code).toBe(0);
    // the reason carries the executable's last output lines (its stderr), not only the exit code
    expect(bad.stdout).toMatch(/^status {6}problem — PDR exited with code 1; last output: .*"mockpdr: simulated failure \(exit 1\) after writing partial outputs"/m);
    expect(bad.stdout).toMatch(/ problem +pdr=1 CO=- +PDR exited with code 1; last output: /m);
    expect(bad.stdout).toMatch(/^ {2}mockpdr: simulated failure \(exit 1\)/m);

    const log = await pdr(['log', '100_30_-10_10_00', '--model', 'shown'], { env, cwd: dir });
    expect(log.code).toBe(0);
    expect(log.stdout).toBe(fs.readFileSync(storedTextout, 'utf8'));
    const onion = await pdr(['log', '100_30_-10_10_00', '--model', 'shown', '--species', 'CO'], { env, cwd: dir });
    expect(onion.stdout).toBe(fs.readFileSync(path.join(dir, 'storage', 'shown', 'oniongrid', 'TEXTOUT100_30_-10_10_00_CO'), 'utf8'));
    const noSuch = await pdr(['log', '100_30_-10_10_00', '--model', 'shown', '--species', 'N2'], { env, cwd: dir });
    expect(noSuch.code).toBe(2);

    const json = await pdr(['show', '100_40_-10_10_00', '--model', 'shown', '--json'], { env, cwd: dir });
    expect(JSON.parse(json.stdout).attempts[0].exitCodes).toEqual({ pdr: 1, onion: { CO: null } });
  });

  it('a running point: live TEXTOUT, log --follow until it ends, the --keep-tmp dir', async () => {
    if (!stack) return;
    process.env.MOCK_PDR_FAIL_MATCH = '_50_';
    process.env.MOCK_PDR_HANG = '1';
    let follow: ChildProcess | null = null;
    try {
      const run = await pdr(['run', '--config', cfg, '--model-name', 'live', '--dens', '50', '--keep-tmp', '--detach'], { env, cwd: dir });
      expect(run.code).toBe(0);
      // wait until the runner has reported the job directory (first step of the attempt)
      let jobId = 0;
      for (let i = 0; i < 300; i++) {
        const r = await stack.client.request('jobGet', { v: 1, jobName: '100_50_-10_10_00', modelName: 'live' });
        jobId = r.job.jobId;
        if (r.job.status === 'running' && r.attempts.some((a) => a.steps.some((s) => s.step === 'pdr-started'))) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      const shown = await pdr(['show', String(jobId)], { env, cwd: dir });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^status {6}running$/m);
      expect(shown.stdout).toMatch(/still running/);
      expect(shown.stdout).toMatch(/^last 10 lines of TEXTOUT \(live, .*pdroutput\/TEXTOUT;/m);
      expect(shown.stdout).toMatch(/^ {2}Begin of PDR Job: /m);

      const log = await pdr(['log', String(jobId)], { env, cwd: dir });
      expect(log.code).toBe(0);
      expect(log.stdout).toMatch(/^Begin of PDR Job: /);

      follow = spawn(process.execPath, [CLI, 'log', String(jobId), '--follow'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const ended = new Promise<number | null>((res) => follow!.on('close', (code) => res(code)));
      await new Promise<void>((res) => follow!.stdout!.on('data', (d) => ((out += d), out.includes('hanging forever') && res())));
      const cancel = await pdr(['cancel', 'live', '--kill'], { env, cwd: dir });
      expect(cancel.code).toBe(0);
      expect(await ended).toBe(0);
      expect(out).toMatch(/^Begin of PDR Job: [\s\S]*hanging forever/);
      follow = null;

      // cancelled: the kept job directory is reported
      let kept = '';
      for (let i = 0; i < 100 && !/^kept dir {4}\S+:\//m.test(kept); i++) {
        kept = (await pdr(['show', String(jobId)], { env, cwd: dir })).stdout;
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(kept).toMatch(new RegExp(`^kept dir {4}\\S+:${stack.workDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/live/100_50_-10_10_00\\.1-\\S+ \\(--keep-tmp\\)$`, 'm'));
    } finally {
      follow?.kill('SIGKILL');
      delete process.env.MOCK_PDR_HANG;
      delete process.env.MOCK_PDR_FAIL_MATCH;
    }
  });

  it('exit codes of every command on its error paths (README: 2 a request mistake, 3 a service missing, 1 unfinished points)', async () => {
    if (!stack) return;
    const cases: Array<[string[], number]> = [
      [['status', 'nosuchmodel'], 2],
      [['status', '999999'], 2],
      [['jobs', '--grid', '999999'], 2],
      [['jobs', '--grid', 'nosuchmodel'], 2],
      [['jobs', '--model', 'nosuchmodel'], 2],
      [['jobs', '--status', 'bogus'], 2],
      [['cancel', '999999'], 2],
      [['retry', '999999'], 2],
      [['show', 'not/a/name'], 2],
      [['log', '0'], 2],
      [['help', 'nosuchtopic'], 2],
      [['run', '--config', 'nosuch.yaml'], 2],
      [['check', '--config', cfg, '--dens', 'abc'], 2],
    ];
    for (const [args, code] of cases) {
      const r = await pdr(args, { env, cwd: dir });
      expect({ args, code: r.code, lines: r.stderr.split('\n').filter(Boolean).length }).toEqual({ args, code, lines: 1 });
    }
    // no service on this namespace: 3
    const away = { ...env, PDR_NATS_PREFIX: `${stack.ns}none` };
    for (const args of [['status'], ['jobs'], ['show', '1'], ['log', '1'], ['health'], ['cancel', '1'], ['retry', '1']]) {
      const r = await pdr(args, { env: away, cwd: dir });
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
    }
    // the known grids still answer 0
    const ok = await pdr(['jobs', '--grid', 'shown', '--csv'], { env, cwd: dir });
    expect(ok.code).toBe(0);
    const [header, ...rows] = parseCsv(ok.stdout);
    expect(header.slice(header.indexOf('axis_metal'), header.indexOf('axis_metal') + 5)).toEqual(['axis_metal', 'axis_dens', 'axis_mass', 'axis_chi', 'zmetal']);
    expect(rows.map((r) => r[header.indexOf('axis_dens')]).sort()).toEqual(['30', '40']);
    expect(rows.map((r) => r[header.indexOf('xnsur')]).sort()).toEqual(['1000', '10000']);
    // a resubmission of a model with a changed config is a new grid of it, shown with another CONFIG
    const again = await pdr(['run', '--config', cfg, '--model-name', 'shown', '--dens', '30', '--detach'], { env, cwd: dir });
    expect(again.code).toBe(0);
    const list = (await pdr(['status'], { env, cwd: dir })).stdout.split('\n').filter((l) => / shown /.test(l));
    expect(list).toHaveLength(2);
    const configs = list.map((l) => /^\s*\d+\s+shown\s+\S+ \S+\s+([0-9a-f]{8})\s/.exec(l)?.[1]);
    expect(configs.every((c) => c !== undefined)).toBe(true);
    expect(new Set(configs).size).toBe(2);
  });

  it('a job that does not exist: one line, exit 2', async () => {
    if (!stack) return;
    for (const args of [['show', '99999999'], ['show', '1_2_3_4_00', '--model', 'nosuch'], ['log', '99999999']]) {
      const r = await pdr(args, { env, cwd: dir });
      expect({ args, code: r.code, lines: r.stderr.split('\n').filter(Boolean).length }).toEqual({ args, code: 2, lines: 1 });
    }
  });
});
