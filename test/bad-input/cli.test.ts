/**
 * `pdr run` with hostile or broken input against LIVE services (so a value that slipped through would
 * really be planned, written and run): values pdr_run would `eval`, path traversal in model names,
 * species, executables and template names, NUL bytes, unknown keys, a grid over --max-points, files
 * that cannot be read (a directory where a file is expected, a file inside a non-directory — chmod 000
 * does not stop root). Each gives one clear error line and an exit code ≠ 0; afterwards the database has
 * no row, the storage base does not exist and no executable ran.
 * (test/cli/cli.test.ts covers --dry-run of unknown keys, a bad axis value and --max-points; this file
 * adds the rest and checks that nothing reached the services.)
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { randomBytes } from 'crypto';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { runCli } from '../support/processes';

jest.setTimeout(180_000);

let s: ProcStack;
let dir: string;
let storage: string;
let cliEnv: Record<string, string>;
const PWNED = `/tmp/pdr-pwned-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  s = await startProcStack({ runners: 1, prefix: 'c' });
  dir = join(s.root, 'cli');
  storage = join(s.root, 'cli-storage');
  mkdirSync(dir);
  mkdirSync(join(dir, 'a-directory'));
  writeFileSync(join(dir, 'plain-file'), 'not a directory\n');
  cliEnv = { PDR_NATS_URL: s.natsUrl, PDR_NATS_PREFIX: s.ns };
});
afterAll(async () => {
  await s?.close();
});

/** A config for the live stack (the counting mock base dir, this test's storage base), optionally edited. */
function config(edit: (yaml: string) => string = (y) => y): string {
  const p = join(dir, `config-${randomBytes(3).toString('hex')}.yaml`);
  const yaml = [
    'pdr:',
    '  model_name: cli_bad_input',
    `  base_dir: ${s.baseDir}`,
    '  pdr_file_name: countpdr',
    '  onion_file_name: mockonion',
    '  chem_database: chem_rates_mock.dat',
    'storage:',
    '  type: local',
    `  base_dir: ${storage}`,
    'model_parameters:',
    '  dens: ["30", "40"]',
    '  chi: ["10"]',
    '  species: ["CO"]',
    '',
  ].join('\n');
  writeFileSync(p, edit(yaml));
  return p;
}
const set = (from: string, to: string) => (y: string) => {
  if (!y.includes(from)) throw new Error(`config template has no "${from}"`);
  return y.replace(from, to);
};
const add = (text: string) => (y: string) => y + text + '\n';

function expectOneLineError(r: { code: number | null; stdout: string; stderr: string }, mention: RegExp, label: string): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect({ label, code: r.code === 0 ? 0 : 'non-zero', lines: lines.length }).toEqual({ label, code: 'non-zero', lines: 1 });
  expect({ label, line: lines[0] }).toEqual({ label, line: expect.stringMatching(/^pdr: error: /) });
  expect({ label, line: lines[0] }).toEqual({ label, line: expect.stringMatching(mention) });
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

const CASES: [string, () => string[], RegExp][] = [
  // values pdr_run would have passed to eval()
  ['--dens with Python', () => ['--config', config(), '--dens', `__import__('os').system('touch ${PWNED}')`], /--dens/],
  ['--chi with Python', () => ['--config', config(), '--chi', 'eval("10")'], /--chi/],
  ['--metal with a list literal', () => ['--config', config(), '--metal', '[100, 50]'], /--metal/],
  ['--mass with shell syntax', () => ['--config', config(), '--mass', `$(touch ${PWNED})`], /--mass/],
  ['an axis in the file with Python', () => ['--config', config(set('chi: ["10"]', `chi: ["__import__('os')"]`))], /chi/],
  // path traversal and unsafe names
  ['--model-name ../x', () => ['--config', config(), '--model-name', '../escape'], /model.?name/i],
  ['--model-name absolute', () => ['--config', config(), '--model-name', '/tmp/escape'], /model.?name/i],
  ['--model-name with a slash', () => ['--config', config(), '--model-name', 'a/b'], /model.?name/i],
  ['--model-name ..', () => ['--config', config(), '--model-name', '..'], /model.?name/i],
  ['model_name with NUL in the file', () => ['--config', config(set('model_name: cli_bad_input', 'model_name: "cli\\0bad"'))], /model_name/],
  ['--species ../x', () => ['--config', config(), '--species', '../CO'], /species/],
  ['--species absolute', () => ['--config', config(), '--species', '/etc/passwd'], /species/],
  ['species with NUL in the file', () => ['--config', config(set('species: ["CO"]', 'species: ["C\\0O"]'))], /species/],
  ['pdr_file_name outside the base dir', () => ['--config', config(set('pdr_file_name: countpdr', 'pdr_file_name: ../../../bin/sh'))], /pdr_file_name|bin\/sh/],
  ['chem_database absolute', () => ['--config', config(set('chem_database: chem_rates_mock.dat', 'chem_database: /etc/passwd'))], /chem_database|passwd/],
  ['pdrinp_template_file with ../', () => ['--config', config(set('  chem_database:', '  pdrinp_template_file: ../../etc/passwd\n  chem_database:'))], /pdrinp_template_file|passwd/],
  ['json_template_file absolute', () => ['--config', config(set('  chem_database:', '  json_template_file: /etc/passwd\n  chem_database:'))], /json_template_file|passwd/],
  // unknown keys
  ['an unknown pdr key', () => ['--config', config(set('pdr_file_name:', 'pdr_fiel_name:'))], /pdr_fiel_name/],
  ['an unknown section', () => ['--config', config(add('stroage:\n  type: local'))], /stroage/],
  ['an unknown model parameter', () => ['--config', config(add('  densitty: ["30"]'))], /densitty/],
  ['an unknown physics column', () => ['--config', config(add('non_default_parameters:\n  xnsurr: 3'))], /xnsurr/],
  // too many points
  ['a grid over --max-points', () => ['--config', config(), '--dens', '30', '31', '32', '--chi', '10', '20', '--max-points', '5'], /--max-points|6 points/],
  // files that cannot be read (root ignores chmod 000)
  ['--config is a directory', () => ['--config', join(dir, 'a-directory')], /a-directory/],
  ['--config inside a non-directory', () => ['--config', join(dir, 'plain-file', 'config.yaml')], /plain-file/],
  ['--json-template is a directory', () => ['--config', config(), '--json-template', join(dir, 'a-directory')], /a-directory/],
  ['--json-template inside a non-directory', () => ['--config', config(), '--json-template', join(dir, 'plain-file', 'x.json')], /plain-file/],
  ['base_dir is a file', () => ['--config', config(set(`base_dir: ${s.baseDir}`, `base_dir: ${join(dir, 'plain-file')}`))], /base_dir .*plain-file: not a directory/],
  ['base_dir inside a file', () => ['--config', config(set(`base_dir: ${s.baseDir}`, `base_dir: ${join(dir, 'plain-file', 'kosmatau')}`))], /base_dir .*plain-file/],
  ['a binary config file', () => ['--config', binaryConfig()], /binary\.bin/],
];

function binaryConfig(): string {
  const p = join(dir, 'binary.bin');
  writeFileSync(p, Buffer.from([0x00, 0xff, 0x3a, 0x0a, 0x7b, 0x5b, 0x00, 0x22, 0x0a]));
  return p;
}

it.each(CASES)('%s → one error line, exit ≠ 0', async (label, args, mention) => {
  const r = await runCli(['run', ...args()], { env: cliEnv, cwd: dir, timeoutMs: 60_000 });
  expectOneLineError(r, mention, label);
});

it('nothing reached the database, the storage base or an executable', async () => {
  const counts: Record<string, number> = {};
  for (const t of ['grids', 'model_names', 'kosmatau_parameters', 'pdr_model_jobs', 'job_attempts', 'hdf_files']) {
    counts[t] = Number((await s.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))[0].n);
  }
  expect(counts).toEqual({ grids: 0, model_names: 0, kosmatau_parameters: 0, pdr_model_jobs: 0, job_attempts: 0, hdf_files: 0 });
  expect(existsSync(storage) ? readdirSync(storage) : []).toEqual([]);
  expect(s.runs()).toEqual([]);
  expect(existsSync(PWNED)).toBe(false);
  expect(existsSync('/tmp/escape')).toBe(false);
});

it('and the same stack runs a good submission (the failures above were the input, not the setup)', async () => {
  const r = await runCli(['run', '--config', config()], { env: cliEnv, cwd: dir, timeoutMs: 90_000 });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(readdirSync(join(storage, 'cli_bad_input', 'pdrgrid'))).toContain('pdr100_30_-10_10_00.hdf');
  expect(s.runs()).toHaveLength(2);
});
