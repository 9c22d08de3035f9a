import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeConfig } from './describe';
import { loadConfig } from './load';

describe('describeConfig (dry-run text)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-describe-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has the pdr_run blocks in order, sections sorted, each value with its source', () => {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'pdr:\n  base_dir: /kt\nmodel_params:\n  dens: ["30", "40"]\nnon_default_params:\n  tgasc: 60.0\n');
    const { config, sources } = loadConfig({
      file,
      env: { PDR_DB_HOST: 'dbhost' },
      flags: { model_parameters: { chi: ['20'] }, pdr: { model_name: 'grid-a' } },
      cwd: dir,
    });
    const text = describeConfig(config, sources, {
      env: { PDR_DB_HOST: 'dbhost' },
      header: [['Execution mode', 'Parallel']],
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('=== PDR RUN CONFIGURATION ===');
    expect(lines[1]).toBe('Model name: grid-a  [flag]');
    expect(lines[2]).toBe('Execution mode: Parallel');
    expect(text.trimEnd().endsWith('=== END CONFIGURATION ===')).toBe(true);
    const order = ['--- Environment Variables ---', '--- Model Parameters ---', '--- Additional Configuration ---'].map((h) =>
      lines.indexOf(h),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const sections = lines.filter((l) => /^\[\w+\]$/.test(l));
    expect(sections).toEqual(['[database]', '[directories]', '[nats]', '[non_default_parameters]', '[pdr]', '[slurm]', '[storage]', '[user]']);
    expect(lines).toContain('PDR_DB_HOST: dbhost');
    expect(lines).toContain('PDR_DB_PORT: Not set');
    expect(lines).toContain('dens: ["30","40"]  [file]');
    expect(lines).toContain('chi: ["20"]  [flag]');
    expect(lines).toContain('mass: ["-10"]  [default]');
    expect(lines).toContain('  host: dbhost  [env]');
    expect(lines).toContain('  password: (not set)  [default]'); // passwordless
    expect(lines).toContain('  tgasc: 60  [file]');
    expect(lines).toContain('  base_dir: /kt  [file]');
    // one line per value, even for multi-line YAML strings
    expect(lines.filter((l) => l.startsWith('chemistry: '))).toHaveLength(1);
  });

  it('masks secret keys nested in mapping values such as connect_args', () => {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'database:\n  connect_args: {ssl: {key_password: abc}, auth_token: xyz, charset: utf8mb4}\n');
    const { config, sources } = loadConfig({ file, env: {}, cwd: dir });
    expect(config.database.connect_args).toEqual({ ssl: { key_password: 'abc' }, auth_token: 'xyz', charset: 'utf8mb4' });
    const text = describeConfig(config, sources, { env: {} });
    expect(text).toContain('  connect_args: {"ssl":{"key_password":"***"},"auth_token":"***","charset":"utf8mb4"}  [file]');
  });

  it('YAML anchors and merge keys (PyYAML accepted them) work', () => {
    const file = path.join(dir, 'm.yaml');
    fs.writeFileSync(
      file,
      'database:\n  <<: {host: merged-host, port: 3307}\n  username: u\nnon_default_params:\n  tgasc: &t 55.0\n  tdustc: *t\n',
    );
    const { config } = loadConfig({ file, env: {}, cwd: dir });
    expect(config.database).toMatchObject({ host: 'merged-host', port: 3307, username: 'u' });
    expect(config.non_default_parameters).toEqual({ tgasc: 55, tdustc: 55 });
  });
});
