import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearRegisteredSecrets } from '@pdr/logging';
import { ConfigError } from './errors';
import { loadConfig, requireRunSettings } from './load';
import type { ConfigFlags } from './schema';

const FIXTURE = path.join(__dirname, '__fixtures__', 'pdr-run-user-config.yaml');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-config-'));
  clearRegisteredSecrets();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Write a YAML file into the temp dir; returns its absolute path. */
function yaml(text: string, name = 'config.yaml'): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** The ConfigError thrown by fn (fails the test if none or another type is thrown). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('pdr_run user config fixture', () => {
  it('loads with every section, aliases resolved, paths resolved against cwd', () => {
    const { config, sources, warnings } = loadConfig({ file: FIXTURE, env: {}, cwd: dir });
    expect(config.pdr.model_name).toBe('lowUV-test');
    expect(config.pdr.base_dir).toBe(path.join(dir, 'kosma-tau'));
    expect(config.storage.base_dir).toBe(path.join(dir, 'runs/storage'));
    expect(config.database).toMatchObject({ type: 'mysql', host: 'db.example.org', database: 'kosma_tau', username: 'kt_user', password: '', pool_recycle: 280 });
    expect(sources['database.password']).toBe('default'); // `password: null` = not given here
    expect(config.user).toEqual({ username: 'Jane Doe', email: 'jane@example.org' });
    expect(config.model_parameters.metal).toEqual(['100', '50']);
    expect(config.model_parameters.dens).toEqual(['30', '40', '05']);
    expect(config.model_parameters.species).toEqual(['CO', 'C+', '13CO']);
    expect(config.model_parameters.chemistry.split(/\s+/).filter(Boolean)).toHaveLength(13);
    expect(sources['model_parameters.dens']).toBe('file');
    expect(Object.keys(config.non_default_parameters)).toHaveLength(26);
    expect(config.non_default_parameters).toMatchObject({ cosray: 1e-16, beta: 1e5, ih2meth: 0, rtol_iter: 0.03 });
    expect(config.directories.pdr_inp_dirs).toEqual(['pdrinpdata', 'onioninpdata', 'In', 'templates']);
    expect(warnings.join('\n')).toMatch(/without effect: .*pdr\.exe_revision/);
  });

  it('a file without a pdr section keeps its other sections (defect 1)', () => {
    const file = yaml('database:\n  host: db1\nstorage:\n  base_dir: /data/s\nuser:\n  username: someone\n');
    const { config, sources } = loadConfig({ file, env: {}, cwd: dir });
    expect(config.database.host).toBe('db1');
    expect(config.storage.base_dir).toBe('/data/s');
    expect(config.user.username).toBe('someone');
    expect(sources['pdr.pdr_file_name']).toBe('default');
  });

  it('the canonical model_parameters / non_default_parameters names work (defect 2, 3)', () => {
    const file = yaml('pdr:\n  base_dir: /kt\nmodel_parameters:\n  dens: ["40"]\nnon_default_parameters:\n  sigd: 2.0e-21\n');
    const { config } = loadConfig({ file, env: {}, cwd: dir });
    expect(config.model_parameters.dens).toEqual(['40']);
    expect(config.non_default_parameters).toEqual({ sigd: 2e-21 });
  });

  it('alias and canonical name of the same section together are an error', () => {
    const file = yaml('model_params:\n  dens: ["30"]\nmodel_parameters:\n  dens: ["40"]\n');
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/'model_params' and 'model_parameters' are the same section/);
  });
});

describe('defaults', () => {
  it('never points at anybody home directory; MariaDB passwordless; base dir unset', () => {
    const { config, sources } = loadConfig({ env: {}, cwd: dir, now: new Date(2024, 0, 2, 3, 4, 5) });
    expect(config.database).toMatchObject({ type: 'mysql', host: '127.0.0.1', port: 3306, database: 'pdr', username: 'root', password: '' });
    expect(config.pdr.base_dir).toBeUndefined();
    expect(config.storage).toMatchObject({ type: 'local', base_dir: path.join(dir, 'pdr_storage') });
    expect(config.pdr.model_name).toBe('pdr_model_20240102_030405');
    expect(config.non_default_parameters).toEqual({});
    expect(config.model_parameters).toMatchObject({ metal: ['100'], dens: ['30'], mass: ['-10'], chi: ['10'], alpha: 1.5, rcore: 0.2 });
    expect(JSON.stringify(config)).not.toMatch(/roellig|\/home\//i);
    expect(Object.values(sources).every((s) => s === 'default')).toBe(true);
  });

  it('requireRunSettings names pdr.base_dir and PDR_BASE_DIR when no base dir is set', () => {
    const { config } = loadConfig({ env: {}, cwd: dir });
    const e = configError(() => requireRunSettings(config));
    expect(e.message).toMatch(/pdr\.base_dir.*PDR_BASE_DIR/);
    const ok = loadConfig({ env: { PDR_BASE_DIR: 'kt' }, cwd: dir });
    expect(() => requireRunSettings(ok.config)).not.toThrow();
  });

  it('remote storage gets no local default base dir and requires its settings', () => {
    const { config } = loadConfig({ env: { PDR_STORAGE_TYPE: 'sftp', PDR_BASE_DIR: '/kt' }, cwd: dir });
    expect(config.storage.base_dir).toBeUndefined();
    const e = configError(() => requireRunSettings(config));
    expect(e.message).toMatch(/storage\.base_dir.*PDR_STORAGE_DIR/);
    expect(e.message).toMatch(/storage\.host.*PDR_STORAGE_HOST/);
  });
});

describe('precedence: flag > env > file > default', () => {
  const file = () => yaml('database:\n  host: file-host\npdr:\n  base_dir: /file/kt\nstorage:\n  base_dir: /file/storage\nmodel_params:\n  dens: ["30"]\n');
  const cases: Array<[string, boolean, boolean, boolean, string, string]> = [
    // label, use file, use env, use flag, expected host, expected source
    ['default only', false, false, false, '127.0.0.1', 'default'],
    ['file', true, false, false, 'file-host', 'file'],
    ['env over file', true, true, false, 'env-host', 'env'],
    ['env without file', false, true, false, 'env-host', 'env'],
    ['flag over env and file', true, true, true, 'flag-host', 'flag'],
    ['flag over file', true, false, true, 'flag-host', 'flag'],
  ];
  it.each(cases)('%s', (_label, useFile, useEnv, useFlag, host, source) => {
    const env = useEnv ? { PDR_DB_HOST: 'env-host', PDR_BASE_DIR: '/env/kt', PDR_STORAGE_DIR: '/env/storage' } : {};
    const flags: ConfigFlags | undefined = useFlag
      ? { database: { host: 'flag-host' }, pdr: { base_dir: '/flag/kt' }, storage: { base_dir: '/flag/storage' }, model_parameters: { dens: ['50', '60'] } }
      : undefined;
    const { config, sources } = loadConfig({ file: useFile ? file() : undefined, env, flags, cwd: dir });
    expect(config.database.host).toBe(host);
    expect(sources['database.host']).toBe(source);
    const where = source === 'default' ? undefined : source;
    // pdr.base_dir and storage.base_dir follow the same order (pdr_run: file beat env there, defect 4)
    expect(config.pdr.base_dir).toBe(where === undefined ? undefined : `/${where}/kt`);
    expect(config.storage.base_dir).toBe(where === undefined ? path.join(dir, 'pdr_storage') : `/${where}/storage`);
    expect(sources['pdr.base_dir']).toBe(source);
    expect(sources['storage.base_dir']).toBe(source);
    // model parameters have no environment variable: flag > file > default
    expect(config.model_parameters.dens).toEqual(useFlag ? ['50', '60'] : useFile ? ['30'] : ['30']);
    expect(sources['model_parameters.dens']).toBe(useFlag ? 'flag' : useFile ? 'file' : 'default');
  });

  it('non_default_parameters merge per key (flag over file)', () => {
    const f = yaml('non_default_params:\n  tgasc: 60.0\n  tdustc: 25\n');
    const { config, sources } = loadConfig({ file: f, env: {}, cwd: dir, flags: { non_default_parameters: { tgasc: 80 } } });
    expect(config.non_default_parameters).toEqual({ tgasc: 80, tdustc: 25 });
    expect(sources['non_default_parameters.tgasc']).toBe('flag');
    expect(sources['non_default_parameters.tdustc']).toBe('file');
  });

  it('PDR_EXEC_PATH wins over PDR_BASE_DIR, with a warning', () => {
    const { config, warnings } = loadConfig({ env: { PDR_BASE_DIR: '/a', PDR_EXEC_PATH: '/b' }, cwd: dir });
    expect(config.pdr.base_dir).toBe('/b');
    expect(warnings.join()).toMatch(/PDR_EXEC_PATH is used/);
  });

  it('an empty environment variable counts as unset', () => {
    const f = yaml('database:\n  host: file-host\n');
    const { config, sources } = loadConfig({ file: f, env: { PDR_DB_HOST: '' }, cwd: dir });
    expect(config.database.host).toBe('file-host');
    expect(sources['database.host']).toBe('file');
  });

  it('reads every PDR_* variable of SPEC 2.4', () => {
    const { config } = loadConfig({
      cwd: dir,
      env: {
        PDR_DB_TYPE: 'MariaDB', PDR_DB_PORT: '3307', PDR_DB_DATABASE: 'kt', PDR_DB_USERNAME: 'u', PDR_DB_FILE: 'x.db',
        PDR_STORAGE_TYPE: 'rclone', PDR_STORAGE_DIR: 'remote/base', PDR_STORAGE_HOST: 'h', PDR_STORAGE_USER: 'su',
        PDR_STORAGE_RCLONE_REMOTE: 'kosmatau:', PDR_STORAGE_USE_MOUNT: 'TRUE', PDR_STORAGE_REMOTE_PATH_PREFIX: '/p',
        PDR_LOG_DIR: 'logs',
      },
    });
    expect(config.database).toMatchObject({ type: 'mariadb', port: 3307, database: 'kt', username: 'u', path: path.join(dir, 'x.db') });
    // remote storage base dirs are remote paths: not resolved locally
    expect(config.storage).toMatchObject({ type: 'rclone', base_dir: 'remote/base', host: 'h', username: 'su', rclone_remote: 'kosmatau:', use_mount: true, remote_path_prefix: '/p' });
    expect(config.log_dir).toBe(path.join(dir, 'logs'));
  });
});

describe('environment errors', () => {
  it('PDR_DB_PORT invalid names the variable', () => {
    const e = configError(() => loadConfig({ env: { PDR_DB_PORT: '33o6' }, cwd: dir }));
    expect(e.message).toBe("PDR_DB_PORT: invalid port '33o6' (expected an integer 1-65535)");
    expect(configError(() => loadConfig({ env: { PDR_DB_PORT: '70000' }, cwd: dir })).message).toMatch(/^PDR_DB_PORT/);
  });
  it('several invalid variables are all named', () => {
    const e = configError(() => loadConfig({ env: { PDR_DB_TYPE: 'oracle', PDR_STORAGE_TYPE: 'ftp', PDR_STORAGE_USE_MOUNT: 'maybe' }, cwd: dir }));
    expect(e.issues).toHaveLength(3);
    expect(e.message).toMatch(/PDR_DB_TYPE: invalid value 'oracle'.*PDR_STORAGE_TYPE.*PDR_STORAGE_USE_MOUNT/);
  });
});

describe('unknown sections and keys', () => {
  it('unknown top-level section: error with file, line and nearest section', () => {
    const file = yaml('pdr:\n  base_dir: /x\ndatabse:\n  host: h\n');
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    expect(e.message).toBe(
      `${file}:3:1: databse: unknown section (did you mean database?); known: database, storage, pdr, user, ` +
        'model_parameters, non_default_parameters, directories, nats, slurm, model_params, non_default_params, diagnostics_output_path',
    );
  });
  it("pdr_run's rejected `parameters` section is still an error", () => {
    const e = configError(() => loadConfig({ file: yaml('parameters:\n  dens: ["30"]\n'), env: {}, cwd: dir }));
    expect(e.message).toMatch(/parameters: unknown section/);
  });
  it('unknown key inside a section: nearest key named, with line and column', () => {
    const file = yaml('storage:\n  type: local\n  bse_dir: /x\n');
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    expect(e.message).toBe(`${file}:3:3: storage.bse_dir: unknown key (did you mean storage.base_dir?)`);
  });
  it('unknown non_default_parameters column: nearest column, case-sensitive names', () => {
    const file = yaml('non_default_params:\n  tgas: 50\n  xhtry: 1.0e6\n  totally_unknown: 1\n');
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    expect(e.issues).toHaveLength(3);
    expect(e.issues[0]).toBe(`${file}:2:3: non_default_params.tgas: unknown kosmatau_parameters column (did you mean non_default_params.tgasc?)`);
    expect(e.issues[1]).toMatch(/non_default_params\.xhtry: .*did you mean non_default_params\.Xhtry\?/);
    expect(e.issues[2]).toMatch(/totally_unknown: unknown kosmatau_parameters column$/);
  });
  it('a typo in a model parameter is an error too', () => {
    const e = configError(() => loadConfig({ file: yaml('model_parameters:\n  dense: ["30"]\n'), env: {}, cwd: dir }));
    expect(e.message).toMatch(/model_parameters\.dense: unknown key \(did you mean model_parameters\.dens\?\)/);
  });
  it('run settings are accepted in model_parameters and moved out of non_default_params', () => {
    const a = loadConfig({ file: yaml('model_parameters:\n  create_random_models: true\n  random_model_num: 10\n  reserved_cpus: 1\n'), env: {}, cwd: dir });
    expect(a.config.model_parameters).toMatchObject({ create_random_models: true, random_model_num: 10, reserved_cpus: 1 });
    const b = loadConfig({ file: yaml('non_default_params:\n  reserved_cpus: 3\n  tgasc: 40\n', 'b.yaml'), env: {}, cwd: dir });
    expect(b.config.model_parameters.reserved_cpus).toBe(3);
    expect(b.config.non_default_parameters).toEqual({ tgasc: 40 });
    expect(b.warnings.join()).toMatch(/reserved_cpus is a run setting/);
    const e = configError(() => loadConfig({ file: yaml('non_default_params:\n  reserved_cpus: -1\n', 'c.yaml'), env: {}, cwd: dir }));
    expect(e.message).toMatch(/non_default_params\.reserved_cpus: must be >= 0, got number -1/);
  });
});

describe('types', () => {
  it.each([
    ['database:\n  port: abc\n', /database\.port: expected an integer, got string 'abc'/],
    ['database:\n  port: 0\n', /database\.port: must be >= 1, got number 0/],
    ['storage:\n  type: ftp\n', /storage\.type: expected one of local, sftp, rclone, remote, got string 'ftp'/],
    ['model_parameters:\n  alpha: [1.5, 2]\n', /model_parameters\.alpha: expected a number, got list/],
    ['model_parameters:\n  dens: ["30", abc]\n', /model_parameters\.dens\[1\]: must be a decimal number.*got string 'abc'/],
    ['model_parameters:\n  dens: []\n', /model_parameters\.dens: must not be an empty list/],
    ['non_default_parameters:\n  ih2meth: 0.5\n', /non_default_parameters\.ih2meth: expected an integer, got number 0.5/],
    ['non_default_parameters:\n  ih2meth: true\n', /non_default_parameters\.ih2meth: expected an integer, got boolean true/],
    ['non_default_parameters:\n  fuvstring: {a: 1}\n', /non_default_parameters\.fuvstring: expected a string, got mapping/],
    ['pdr:\n  model_name: ../escape\n', /pdr\.model_name: must be a plain name: no "\/"/],
    ['pdr: [1, 2]\n', /pdr: expected a mapping of keys, got list/],
    ['storage:\n  use_mount: maybe\n', /storage\.use_mount: expected true or false, got string 'maybe'/],
    ['database:\n  password: [a, b]\n', /database\.password: expected a string, got list \(value hidden\)/],
  ])('%j', (text, re) => {
    const file = yaml(text);
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    expect(e.message).toMatch(re);
    expect(e.message.startsWith(`${file}:`)).toBe(true);
  });

  it('refuses an onion species longer than its file roles can hold, naming the key', () => {
    const e = configError(() => loadConfig({ file: yaml(`model_parameters:\n  species: [CO, ${'X'.repeat(81)}]\n`), env: {}, cwd: dir }));
    expect(e.message).toMatch(/model_parameters\.species.*at most 80 characters/);
  });

  it('reports every problem of a file at once', () => {
    const e = configError(() => loadConfig({ file: yaml('database:\n  port: x\nstorage:\n  bse_dir: y\n'), env: {}, cwd: dir }));
    expect(e.issues).toHaveLength(2);
    expect(e.message).toMatch(/^2 problems in /);
  });

  it('coerces the way pdr_run files are written', () => {
    const file = yaml(
      'model_parameters:\n  dens: [30, 05, 3.0, "40", -05]\n  chi: 10\n  mass: "-10"\n  species: "CO C+  O"\n' +
        '  alpha: "1.5"\n  rcore: [0.3]\n  chemistry: [H, H2, CO]\n' +
        'database:\n  password: 0123\n  port: "3307"\n  username: 42\nstorage:\n  use_mount: no\n' +
        'non_default_parameters:\n  cosray: "2e-16"\n  fuvstring: Draine\n',
    );
    const { config } = loadConfig({ file, env: {}, cwd: dir });
    // axis values keep the text as written: YAML would read 05 as 5 and 3.0 as 3
    expect(config.model_parameters.dens).toEqual(['30', '05', '3.0', '40', '-05']);
    expect(config.model_parameters.chi).toEqual(['10']);
    expect(config.model_parameters.mass).toEqual(['-10']);
    expect(config.model_parameters.species).toEqual(['CO', 'C+', 'O']);
    expect(config.model_parameters.alpha).toBe(1.5);
    expect(config.model_parameters.rcore).toBe(0.3);
    expect(config.model_parameters.chemistry).toBe('H H2 CO');
    expect(config.database.password).toBe('0123');
    expect(config.database.port).toBe(3307);
    expect(config.database.username).toBe('42');
    expect(config.storage.use_mount).toBe(false);
    expect(config.non_default_parameters).toEqual({ cosray: 2e-16, fuvstring: 'Draine' });
  });

  it('validates flags with the same rules, naming the flag', () => {
    const e = configError(() =>
      loadConfig({ env: {}, cwd: dir, flags: { database: { port: 'abc' as unknown as number }, model_parameters: { dens: ['x'] } } }),
    );
    expect(e.issues[0]).toMatch(/^command-line flag: database\.port: expected an integer/);
    expect(e.issues[1]).toMatch(/^command-line flag: model_parameters\.dens\[0\]: must be a decimal number/);
  });
});

describe('files', () => {
  it('YAML syntax error: file, line and column, no source line', () => {
    const file = yaml('database:\n  host: h\n  password: "s3cr3t-in-broken-line\nstorage: {\n');
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML syntax error: `));
    expect(e.message).not.toContain('s3cr3t');
  });
  it('YAML syntax error position is the offending line', () => {
    const file = yaml('pdr:\n  base_dir: /x\n  model_name: [a\nuser: {}\n');
    const e = configError(() => loadConfig({ file, env: {}, cwd: dir }));
    const m = /:(\d+):(\d+): YAML syntax error/.exec(e.message);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(3);
  });
  it('duplicate keys are a YAML error with position', () => {
    const e = configError(() => loadConfig({ file: yaml('pdr:\n  base_dir: /a\n  base_dir: /b\n'), env: {}, cwd: dir }));
    expect(e.message).toMatch(/:3:3: YAML syntax error: Map keys must be unique/);
  });
  it('missing file: error naming the path, no fallback to defaults (defect 5)', () => {
    const e = configError(() => loadConfig({ file: 'nope.yaml', env: {}, cwd: dir }));
    expect(e.message).toBe(`config file ${path.join(dir, 'nope.yaml')}: file not found`);
  });
  it('a directory instead of a file', () => {
    expect(configError(() => loadConfig({ file: '.', env: {}, cwd: dir })).message).toMatch(/is a directory/);
  });
  it('empty file: warning, defaults apply; a list at top level: error', () => {
    const { warnings } = loadConfig({ file: yaml(''), env: {}, cwd: dir });
    expect(warnings.join()).toMatch(/is empty/);
    expect(configError(() => loadConfig({ file: yaml('- a\n- b\n', 'l.yaml'), env: {}, cwd: dir })).message).toMatch(
      /top level must be a mapping of sections.*got list/,
    );
  });
  it('an empty section is allowed', () => {
    const { config } = loadConfig({ file: yaml('pdr:\nuser:\n'), env: {}, cwd: dir });
    expect(config.pdr.pdr_file_name).toBe('mockpdr');
  });
  it('warns when directories differ from the fixed layout, or computed columns are overridden', () => {
    const { warnings } = loadConfig({ file: yaml('directories:\n  pdr_out_dirs: [out]\nnon_default_params:\n  xnsur: 1000.0\n'), env: {}, cwd: dir });
    expect(warnings.join('\n')).toMatch(/directories\.pdr_out_dirs differs from the fixed run layout/);
    expect(warnings.join('\n')).toMatch(/non_default_parameters\.xnsur replaces the value computed/);
  });
  it('diagnostics_output_path is accepted at top level (defect 9)', () => {
    const { config } = loadConfig({ file: yaml('diagnostics_output_path: diag/out.json\n'), env: {}, cwd: dir });
    expect(config.diagnostics_output_path).toBe(path.join(dir, 'diag/out.json'));
  });
  it('sqlite from a pdr_run file loads with a warning (the state service will refuse it)', () => {
    const { config, warnings } = loadConfig({ file: yaml("database:\n  type: sqlite\n  path: ':memory:'\n"), env: {}, cwd: dir });
    expect(config.database.type).toBe('sqlite');
    expect(config.database.path).toBe(':memory:');
    expect(warnings.join()).toMatch(/database\.type 'sqlite' \(file\) is not supported/);
  });
});

describe('relative paths are resolved once against the caller cwd (defect 11)', () => {
  it('file, base dirs, json template, mount point, diagnostics, log dir', () => {
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'c.yaml'), 'pdr:\n  base_dir: ../kt\n  json_template: tpl/my.json\nstorage:\n  base_dir: out\n  mount_point: mnt\n');
    const { config } = loadConfig({ file: 'sub/c.yaml', env: { PDR_LOG_DIR: 'logs' }, cwd: dir });
    // relative to the caller's cwd, NOT to the config file's directory and NOT to the base dir
    expect(config.pdr.base_dir).toBe(path.resolve(dir, '../kt'));
    expect(config.pdr.json_template).toBe(path.join(dir, 'tpl/my.json'));
    expect(config.storage.base_dir).toBe(path.join(dir, 'out'));
    expect(config.storage.mount_point).toBe(path.join(dir, 'mnt'));
    expect(config.log_dir).toBe(path.join(dir, 'logs'));
    expect(process.cwd()).not.toBe(dir);
  });
  it('a json template given as a flag too', () => {
    const { config } = loadConfig({ env: {}, cwd: dir, flags: { pdr: { json_template: 'x.json.template' } } });
    expect(config.pdr.json_template).toBe(path.join(dir, 'x.json.template'));
  });
  it('~ expands to the home directory', () => {
    const { config } = loadConfig({ env: { PDR_BASE_DIR: '~/kt' }, cwd: dir });
    expect(config.pdr.base_dir).toBe(path.join(os.homedir(), 'kt'));
  });
});
