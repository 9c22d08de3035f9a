/**
 * `pdr` on the PATH (README: `npm install -g .` in the repository, or `npm link`): installed here into a
 * prefix of its own (the same command with --prefix, so nothing outside the test's directory changes),
 * then run by name from a directory outside the repository, with relative paths resolved against that
 * directory. Offline: npm links the checkout, it downloads nothing.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { MOCK_BASE, REPO, tmpDir } from './helpers';

jest.setTimeout(120_000);

describe('pdr on the PATH', () => {
  let prefix: string;
  let own: string;
  beforeAll(() => {
    prefix = tmpDir('pdr-prefix-');
    own = tmpDir('pdr-user-');
    execFileSync('npm', ['install', '-g', '.', '--prefix', prefix, '--offline', '--no-audit', '--no-fund'], { cwd: REPO, stdio: 'pipe' });
  });
  afterAll(() => {
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.rmSync(own, { recursive: true, force: true });
  });

  const pdrOnPath = (args: string[]) =>
    spawnSync('pdr', args, {
      cwd: own,
      encoding: 'utf8',
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_'))), PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}` },
    });

  it('runs by name from a directory outside the repository; relative paths are resolved against that directory', () => {
    expect(own.startsWith(REPO)).toBe(false);
    const version = pdrOnPath(['--version']);
    expect([version.status, version.stdout.trim()]).toEqual([0, '0.1.0']);

    fs.cpSync(MOCK_BASE, path.join(own, 'kt'), { recursive: true });
    fs.writeFileSync(
      path.join(own, 'my_config.yaml'),
      ['pdr:', '  base_dir: kt', '  chem_database: chem_rates_mock.dat', '  model_name: mine', 'storage:', '  base_dir: out', 'model_parameters:', '  species: ["CO"]', ''].join('\n'),
    );
    const check = pdrOnPath(['check', '--config', 'my_config.yaml', '--single']);
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(check.stdout).toContain(`base dir ${path.join(own, 'kt')}, storage ${path.join(own, 'out', 'mine')}`);

    const inputs = pdrOnPath(['inputs', '--config', 'my_config.yaml', '--single', '--out', 'rendered']);
    expect(inputs.status).toBe(0);
    expect(fs.readdirSync(path.join(own, 'rendered', '100_30_-10_10_00')).sort()).toEqual(['PDRNEW.INP', 'parameters.json', 'pdr_config.json']);
  });
});
