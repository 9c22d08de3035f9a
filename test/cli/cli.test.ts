/**
 * The built `pdr` CLI as a subprocess: help, user mistakes (one line, exit ≠ 0, no stack trace),
 * --dry-run without any service and without leaking secrets, offline `pdr inputs`, `pdr health`
 * naming missing services.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NATS_URL, natsReachable, testNamespace } from '../support/env';
import { expectOneLineError, MOCK_BASE, pdr, tmpDir } from './helpers';

/** No NATS listens here: commands that need no service must not notice. */
const DEAD_NATS = 'nats://127.0.0.1:1';

const CANARY_FILE = 'CanaryFilePassword_5f2a9c';
const CANARY_ENV = 'CanaryEnvPassword_81d0e7';

function writeConfig(dir: string, body: string): string {
  const p = path.join(dir, 'config.yaml');
  fs.writeFileSync(p, body);
  return p;
}

const MOCK_CONFIG = (storage: string) => `
pdr:
  model_name: cli_test
  base_dir: ${MOCK_BASE}
  chem_database: chem_rates_mock.dat
storage:
  type: local
  base_dir: ${storage}
database:
  username: someone
  password: ${CANARY_FILE}
model_parameters:
  dens: ["30", "40", "50"]
  chi: ["10", "20"]
  species: ["CO", "C+"]
`;

describe('pdr --help', () => {
  it('lists every command', async () => {
    const r = await pdr(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'status', 'jobs', 'cancel', 'retry', 'health', 'inputs', 'up']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it.each(['run', 'status', 'jobs', 'cancel', 'retry', 'health', 'inputs', 'up'])('pdr %s --help', async (cmd) => {
    const r = await pdr([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: pdr ${cmd}\\b`));
    expect(r.stderr).toBe('');
  });

  it('pdr run --help shows every pdr_run flag and the submission flags', async () => {
    const r = await pdr(['run', '--help']);
    const flags = ['--config', '--model-name', '--single', '--grid', '--parallel', '--workers', '--cpus', '--force-onion', '--keep-tmp', '--metal', '--dens', '--mass', '--chi', '--species', '--random', '--json-template', '--dry-run', '--detach', '--retry-failed', '--seed', '--max-points', '--pdr-timeout', '--onion-timeout', '--verbose'];
    for (const f of flags) expect(r.stdout).toContain(f);
  });
});

describe('user mistakes: one line, exit ≠ 0, no stack trace', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmpDir('pdr-cli-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('unknown flag → exit 2 with commander message', async () => {
    expectOneLineError(await pdr(['run', '--frobnicate']), 2, /unknown option '--frobnicate'/);
  });

  it('unknown command → exit 2', async () => {
    expectOneLineError(await pdr(['runn']), 2, /unknown command 'runn'/);
  });

  it('--single with --grid → exit 2', async () => {
    expectOneLineError(await pdr(['run', '--single', '--grid', '--dry-run']), 2, /--single.*--grid/);
  });

  it('bad axis value --dens 1e2x → exit 2 naming the flag and value', async () => {
    expectOneLineError(await pdr(['run', '--dens', '1e2x', '--dry-run'], { env: { PDR_NATS_URL: DEAD_NATS } }), 2, /--dens "1e2x"/);
  });

  it('bad integer flag → exit 2', async () => {
    expectOneLineError(await pdr(['run', '--max-points', 'lots', '--dry-run']), 2, /--max-points/);
  });

  it('unknown config key → exit 2 with the nearest key', async () => {
    const cfg = writeConfig(dir, `pdr:\n  base_dirr: ${MOCK_BASE}\n`);
    expectOneLineError(await pdr(['run', '--config', cfg, '--dry-run']), 2, /base_dirr.*did you mean.*base_dir/);
  });

  it('unknown physics parameter → exit 2 naming it', async () => {
    const cfg = writeConfig(dir, `pdr:\n  base_dir: ${MOCK_BASE}\nnon_default_parameters:\n  tgass: 40\n`);
    expectOneLineError(await pdr(['run', '--config', cfg, '--dry-run']), 2, /tgass/);
  });

  it('missing config file → exit 2 naming it', async () => {
    expectOneLineError(await pdr(['run', '--config', 'no/such/file.yaml', '--dry-run'], { cwd: dir }), 2, new RegExp(`${dir}/no/such/file.yaml`));
  });

  it('grid larger than --max-points → exit 2', async () => {
    const cfg = writeConfig(dir, MOCK_CONFIG(path.join(dir, 'storage')));
    expectOneLineError(await pdr(['run', '--config', cfg, '--max-points', '5', '--dry-run']), 2, /6 points.*--max-points 5/);
  });

  it('impossible geometry (alpha = 3) → exit 2 before contacting anything', async () => {
    const cfg = writeConfig(dir, `pdr:\n  base_dir: ${MOCK_BASE}\nmodel_parameters:\n  alpha: 3\n`);
    const r = await pdr(['run', '--config', cfg], { env: { PDR_NATS_URL: DEAD_NATS } });
    expectOneLineError(r, 2, /alpha/);
  });

  it('a config error never shows the password of the file', async () => {
    const cfg = writeConfig(dir, `database:\n  password: ${CANARY_FILE}\npdr:\n  base_dir: ${MOCK_BASE}\n  bogus_key: 1\n`);
    const r = await pdr(['run', '--config', cfg, '--dry-run'], { env: { PDR_DB_PASSWORD: CANARY_ENV } });
    expectOneLineError(r, 2, /bogus_key/);
    expect(r.stdout + r.stderr).not.toContain(CANARY_FILE);
    expect(r.stdout + r.stderr).not.toContain(CANARY_ENV);
  });

  it('pdr jobs --status bogus → exit 2', async () => {
    expectOneLineError(await pdr(['jobs', '--status', 'bogus']), 2, /unknown status "bogus"/);
  });

  it('--verbose adds no stack trace to a user mistake', async () => {
    const r = await pdr(['run', '--dens', 'x', '--dry-run', '--verbose']);
    expectOneLineError(r, 2, /--dens "x"/);
  });
});

describe('pdr run --dry-run (no service needed)', () => {
  let dir: string;
  let cfg: string;
  beforeAll(() => {
    dir = tmpDir('pdr-cli-dry-');
    cfg = writeConfig(dir, MOCK_CONFIG(path.join(dir, 'storage')));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the masked effective configuration and the planned points', async () => {
    const r = await pdr(['run', '--config', cfg, '--dry-run'], { env: { PDR_DB_PASSWORD: CANARY_ENV, PDR_NATS_URL: DEAD_NATS } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('=== PDR RUN CONFIGURATION ===');
    expect(r.stdout).toMatch(/^Model name: cli_test/m);
    expect(r.stdout).toMatch(/^PDR_DB_PASSWORD: \*\*\*$/m);
    expect(r.stdout).toContain(`base_dir: ${MOCK_BASE}`);
    expect(r.stdout).toContain(`Storage path: ${path.join(dir, 'storage', 'cli_test')}`);
    expect(r.stdout).toMatch(/^Points: 6$/m);
    const jobs = r.stdout.split('\n').filter((l) => /^ {2}100_\d+_-10_\d+_00$/.test(l)).map((l) => l.trim());
    expect(jobs).toEqual(['100_30_-10_10_00', '100_30_-10_20_00', '100_40_-10_10_00', '100_40_-10_20_00', '100_50_-10_10_00', '100_50_-10_20_00']);
    expect(r.stdout + r.stderr).not.toContain(CANARY_FILE);
    expect(r.stdout + r.stderr).not.toContain(CANARY_ENV);
  });

  it('flags override the file (flag > file) and --single plans one point', async () => {
    const r = await pdr(['run', '--config', cfg, '--dry-run', '--single', '--model-name', 'other', '--chi', '05', '00']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Model name: other {2}\[flag\]/m);
    expect(r.stdout).toMatch(/^Points: 1$/m);
    expect(r.stdout).toMatch(/^ {2}100_30_-10_05_00$/m);
  });

  it('--random N --seed S draws N reproducible points and prints the seed', async () => {
    const args = ['run', '--config', cfg, '--dry-run', '--dens', '20', '60', '--chi', '00', '30', '--random', '7', '--seed', '1234'];
    const a = await pdr(args);
    const b = await pdr(args);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^Points: 7$/m);
    expect(a.stdout).toMatch(/^Random seed: 1234 /m);
    const pts = (s: string) => s.split('\n').filter((l) => /^ {2}100_/.test(l));
    expect(pts(a.stdout)).toHaveLength(7);
    expect(new Set(pts(a.stdout)).size).toBe(7);
    expect(pts(b.stdout)).toEqual(pts(a.stdout));
    const other = await pdr([...args.slice(0, -1), '99']);
    expect(pts(other.stdout)).not.toEqual(pts(a.stdout));
  });

  it('--random without --seed draws a seed and prints it', async () => {
    const r = await pdr(['run', '--config', cfg, '--dry-run', '--dens', '20', '60', '--random', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Random seed: \d+ \(reproduce with --seed \d+\)$/m);
  });

  it('--parallel/--workers/--cpus are accepted with a one-line notice', async () => {
    const r = await pdr(['run', '--config', cfg, '--dry-run', '--parallel', '--workers', '4', '--cpus', '2']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pdr: note: --parallel, --workers, --cpus have no effect/)]);
  });

  it('a broken database section never fails a run (the state service reads it)', async () => {
    const c = writeConfig(dir, `${MOCK_CONFIG(path.join(dir, 'storage'))}\n`.replace('  username: someone', '  usernam: someone\n  port: not-a-port'));
    const r = await pdr(['run', '--config', c, '--dry-run'], { env: { PDR_DB_PORT: 'nope' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(CANARY_FILE);
  });

  it('--json-template is resolved against the caller\'s cwd and must exist', async () => {
    fs.writeFileSync(path.join(dir, 'mine.json.template'), '{"xnsur": KT_VARxnsur_}\n');
    const ok = await pdr(['run', '--config', cfg, '--dry-run', '--json-template', 'mine.json.template'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`json_template: ${path.join(dir, 'mine.json.template')}`);
    expectOneLineError(await pdr(['run', '--config', cfg, '--dry-run', '--json-template', 'absent.json'], { cwd: dir }), 2, /absent\.json/);
  });
});

describe('pdr inputs (offline)', () => {
  let dir: string;
  let cfg: string;
  beforeAll(() => {
    dir = tmpDir('pdr-cli-inputs-');
    cfg = writeConfig(dir, MOCK_CONFIG(path.join(dir, 'storage')));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--stdout renders PDRNEW.INP and pdr_config.json from the mock base dir templates', async () => {
    const r = await pdr(['inputs', '--config', cfg, '--dens', '40', '--stdout'], { env: { PDR_NATS_URL: DEAD_NATS } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('==> PDRNEW.INP (job 100_40_-10_10_00');
    expect(r.stdout).toContain('==> pdr_config.json (job 100_40_-10_10_00');
    expect(r.stdout).not.toMatch(/KT_VARxnsur_|KT_VARsint_|KT_VARCHEM_DATABASE_FILE_/);
    // dens "40" = 10^4 cm^-3 in pdr_run's number format
    expect(r.stdout).toMatch(/^1\.000e\+04$/m);
    expect(r.stdout).toContain('"chemical_database_file": "chem_rates_mock.dat"');
    const json = r.stdout.split('==> pdr_config.json')[1].split('\n').slice(1).join('\n');
    expect(() => JSON.parse(json)).not.toThrow();
  });

  it('--out writes both files', async () => {
    const out = path.join(dir, 'out');
    const r = await pdr(['inputs', '--config', cfg, '--out', out]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'PDRNEW.INP'), 'utf8')).toMatch(/^1\.000e\+03$/m);
    expect(fs.existsSync(path.join(out, 'pdr_config.json'))).toBe(true);
  });

  it('a bad point value → one line, exit 2', async () => {
    expectOneLineError(await pdr(['inputs', '--config', cfg, '--metal', '-5', '--dens', '30', '--chi', '10', '--stdout']), 2, /metal/);
  });
});


describe('missing services', () => {
  it('NATS unreachable → exit 3 saying how to start it', async () => {
    for (const args of [['health'], ['status'], ['jobs'], ['cancel', '1'], ['retry', 'some_model']]) {
      expectOneLineError(await pdr(args, { env: { PDR_NATS_URL: DEAD_NATS } }), 3, /nats-server/);
    }
  });

  it('pdr health in a namespace where nothing runs → exit 3 naming every service', async () => {
    if (!(await natsReachable(NATS_URL))) {
      console.warn(`skipped: no NATS at ${NATS_URL}`);
      return;
    }
    const r = await pdr(['health'], { env: { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('cli') } });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^pdr: error: the state service is not running; start it with `pdr up` or `node apps\/state\/dist\/main.js`/),
      expect.stringMatching(/^pdr: error: the planner service is not running;/),
      expect.stringMatching(/^pdr: error: the runner service is not running;/),
    ]);
  });

  it('pdr run without planner/state → exit 3 naming them', async () => {
    if (!(await natsReachable(NATS_URL))) {
      console.warn(`skipped: no NATS at ${NATS_URL}`);
      return;
    }
    const dir = tmpDir('pdr-cli-run-');
    try {
      const cfg = writeConfig(dir, MOCK_CONFIG(path.join(dir, 'storage')));
      const r = await pdr(['run', '--config', cfg], { env: { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: testNamespace('cli') } });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/the state service is not running/);
      expect(r.stderr).toMatch(/the planner service is not running/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
