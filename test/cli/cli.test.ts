/**
 * The built `pdr` CLI as a subprocess: help, user mistakes (one line, exit ≠ 0, no stack trace),
 * --dry-run without any service and without leaking secrets, offline `pdr inputs`, `pdr health`
 * naming missing services.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildParameterRow } from '@pdr/domain';
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

  const FILES = ['PDRNEW.INP', 'parameters.json', 'pdr_config.json'];
  const readJson = (p: string): Record<string, unknown> => JSON.parse(fs.readFileSync(p, 'utf8'));

  it('--stdout renders PDRNEW.INP, pdr_config.json and parameters.json of a one-point grid', async () => {
    const r = await pdr(['inputs', '--config', cfg, '--dens', '40', '--chi', '10', '--stdout'], { env: { PDR_NATS_URL: DEAD_NATS } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('==> PDRNEW.INP (job 100_40_-10_10_00');
    expect(r.stdout).toContain('==> pdr_config.json (job 100_40_-10_10_00');
    expect(r.stdout).toContain('==> parameters.json (job 100_40_-10_10_00');
    expect(r.stdout).not.toMatch(/KT_VARxnsur_|KT_VARsint_|KT_VARCHEM_DATABASE_FILE_/);
    // dens "40" = 10^4 cm^-3 in pdr_run's number format
    expect(r.stdout).toMatch(/^1\.000e\+04$/m);
    expect(r.stdout).toContain('"chemical_database_file": "chem_rates_mock.dat"');
    const json = r.stdout.split('==> pdr_config.json')[1].split('==> parameters.json')[0].split('\n').slice(1).join('\n');
    expect(() => JSON.parse(json)).not.toThrow();
  });

  it('--stdout on a grid of several points → one line naming --out, nothing printed', async () => {
    const r = await pdr(['inputs', '--config', cfg, '--stdout']);
    expectOneLineError(r, 2, /6 points.*--out DIR/);
    expect(r.stdout).toBe('');
    // --single makes it one point
    const one = await pdr(['inputs', '--config', cfg, '--single', '--stdout']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('(job 100_30_-10_10_00');
  });

  it('neither --out nor --stdout → one line naming both', async () => {
    expectOneLineError(await pdr(['inputs', '--config', cfg, '--single']), 2, /--out DIR.*--stdout/);
  });

  it('a 2×2 grid writes 4 directories with all three files; parameters.json is the domain row', async () => {
    const out = path.join(dir, 'grid2x2');
    const r = await pdr(['inputs', '--config', cfg, '--dens', '30', '40', '--chi', '10', '20', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const jobs = ['100_30_-10_10_00', '100_30_-10_20_00', '100_40_-10_10_00', '100_40_-10_20_00'];
    expect(fs.readdirSync(out).sort()).toEqual(jobs);
    for (const job of jobs) {
      expect(fs.readdirSync(path.join(out, job)).sort()).toEqual(FILES);
      const [metal, dens, mass, chi] = job.split('_');
      const params = readJson(path.join(out, job, 'parameters.json'));
      const expected = buildParameterRow({ point: { metal, dens, mass, chi } });
      expect(params).toEqual({ ...expected });
      expect(Object.keys(params)).toEqual(Object.keys(expected));
      expect(typeof params.xnsur).toBe('number');
      expect(typeof params.rtot).toBe('number');
      expect(() => readJson(path.join(out, job, 'pdr_config.json'))).not.toThrow();
    }
    expect(fs.readFileSync(path.join(out, '100_40_-10_20_00', 'PDRNEW.INP'), 'utf8')).toMatch(/^1\.000e\+04$/m);
    expect(fs.readFileSync(path.join(out, '100_30_-10_10_00', 'PDRNEW.INP'), 'utf8')).toMatch(/^1\.000e\+03$/m);
    expect(r.stdout).toMatch(new RegExp(`^4 point\\(s\\) written to ${out};`, 'm'));
  });

  it('a pdr_run-style config (pdr, storage, model_parameters, non_default_params) feeds every point', async () => {
    const own = path.join(dir, 'pdrrun');
    fs.mkdirSync(own);
    const c = path.join(own, 'my_config.yaml');
    fs.writeFileSync(
      c,
      `pdr:
  model_name: preview
  base_dir: ${MOCK_BASE}
  pdrinp_template_file: PDRNEW.INP.template
  json_template_file: pdr_config.json.template
  chem_database: chem_rates_mock.dat
storage:
  type: local
  base_dir: ./storage
model_parameters:
  metal: ["100", "50"]
  dens: ["30"]
  mass: ["-10", "00"]
  chi: ["10"]
  alpha: 1.5
  rcore: 0.2
  species: ["CO"]
  chemistry: "H+ H2+ C C+ CO O"
non_default_params:
  cosray: 5.0e-17
  tgasc: 60.0
  ifuvtype: 1
`,
    );
    const r = await pdr(['inputs', '--config', 'my_config.yaml', '--out', 'inputs'], { cwd: own });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = path.join(own, 'inputs');
    const jobs = ['100_30_-10_10_00', '100_30_00_10_00', '50_30_-10_10_00', '50_30_00_10_00'];
    expect(fs.readdirSync(out).sort()).toEqual(jobs.sort());
    const nonDefault = { cosray: 5e-17, tgasc: 60, ifuvtype: 1 };
    for (const job of jobs) {
      const [metal, dens, mass, chi] = job.split('_');
      const params = readJson(path.join(out, job, 'parameters.json'));
      expect(params).toEqual({ ...buildParameterRow({ point: { metal, dens, mass, chi }, alpha: 1.5, rcore: 0.2, chemistry: 'H+ H2+ C C+ CO O', nonDefault }) });
      expect(params).toMatchObject({ cosray: 5e-17, tgasc: 60, ifuvtype: 1, species: 'H+ H2+ C C+ CO O' });
      expect(fs.readFileSync(path.join(out, job, 'PDRNEW.INP'), 'utf8')).toMatch(/^5\.000e-17$/m);
    }
    expect(readJson(path.join(out, '50_30_-10_10_00', 'parameters.json')).zmetal).toBe(0.5);
    expect(fs.existsSync(path.join(own, 'storage'))).toBe(false);
  });

  it('a missing PDRNEW template is an error unless --json-only; then a warning and the JSON files are written', async () => {
    const base = path.join(dir, 'only-json-base');
    fs.mkdirSync(path.join(base, 'templates'), { recursive: true });
    fs.copyFileSync(path.join(MOCK_BASE, 'templates', 'pdr_config.json.template'), path.join(base, 'templates', 'pdr_config.json.template'));
    const out = path.join(dir, 'only-json');
    // --remote-runners: the executables, chemistry and onion inputs this base dir lacks are the runners' (warnings);
    // the templates are read here, so their absence stays an error
    const refused = await pdr(['inputs', '--single', '--remote-runners', '--out', out], { env: { PDR_BASE_DIR: base } });
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n').filter((l) => l.startsWith('pdr: error: '))).toEqual([
      expect.stringMatching(/^pdr: error: pdr\.pdrinp_template_file PDRNEW\.INP\.template: PDRNEW template not found in .*--json-only/),
    ]);
    expect(fs.existsSync(out)).toBe(false);

    const r = await pdr(['inputs', '--single', '--remote-runners', '--json-only', '--out', out], { env: { PDR_BASE_DIR: base } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^pdr: warning: pdr\.pdrinp_template_file PDRNEW\.INP\.template: PDRNEW template not found .*PDRNEW\.INP will not be written/m);
    expect(r.stderr).not.toMatch(/pdr: error/);
    expect(fs.readdirSync(path.join(out, '100_30_-10_10_00')).sort()).toEqual(['parameters.json', 'pdr_config.json']);
  });

  it('refuses a grid above --max-points, like pdr run, writing nothing', async () => {
    const out = path.join(dir, 'too-many');
    expectOneLineError(await pdr(['inputs', '--config', cfg, '--max-points', '5', '--out', out]), 2, /6 points.*--max-points 5/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--random N --seed S writes the same N points as pdr run --dry-run plans', async () => {
    const args = ['--config', cfg, '--dens', '20', '60', '--chi', '00', '30', '--random', '3', '--seed', '42'];
    const out = path.join(dir, 'random');
    const r = await pdr(['inputs', ...args, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('random seed: 42');
    const planned = (await pdr(['run', ...args, '--dry-run'])).stdout.split('\n').filter((l) => /^ {2}100_/.test(l)).map((l) => l.trim());
    expect(planned).toHaveLength(3);
    expect(fs.readdirSync(out).sort()).toEqual([...planned].sort());
  });

  it('a bad point value → one line, exit 2, nothing written', async () => {
    const out = path.join(dir, 'bad-value');
    expectOneLineError(await pdr(['inputs', '--config', cfg, '--metal', '-5', '--dens', '30', '--chi', '10', '--out', out]), 2, /metal/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a point that fails only in combination (geometry) → one line naming it, nothing written', async () => {
    const out = path.join(dir, 'bad-combination');
    const r = await pdr(['inputs', '--config', cfg, '--dens', '30', '-2500', '--mass', '-10', '2500', '--chi', '10', '--out', out]);
    expectOneLineError(r, 2, /^pdr: error: .*clump radius/);
    expect(fs.existsSync(out)).toBe(false);
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
