/**
 * The schemas are the one description of the configuration: every key declares its variable (or
 * NO_ENV), its default validates against its own type, every declared variable is actually read,
 * ignored keys are reported one notice per key, and docs/configuration.md is generated from them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LIMITS } from '@pdr/contracts';
import { clearRegisteredSecrets, maskText } from '@pdr/logging';
import { stringify } from 'yaml';
import { z } from 'zod';
import { renderConfigDoc } from './docs';
import { ENV_VARS, loadConfig, sectionFromEnv } from './load';
import {
  builtInDefaults,
  CONFIG_FIELDS,
  fieldSchema,
  SECTIONS,
  type DefaultContext,
  type FieldInfo,
  type FieldKind,
} from './schema';

const REPO = path.resolve(__dirname, '../../..');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-schema-'));
  clearRegisteredSecrets();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function yamlFile(data: unknown, name = 'c.yaml'): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, stringify(data));
  return p;
}

/** A valid environment value for a variable of this kind. */
function envSample(kind: FieldKind): string {
  switch (kind) {
    case 'port':
      return '2345';
    case 'bool':
      return 'true';
    case 'db_type':
      return 'mariadb';
    case 'storage_type':
      return 'sftp';
    default:
      return 'sample-value';
  }
}

describe('the schema walk', () => {
  it('every field declares its PDR_* variables or the explicit NO_ENV marker, and a meaning', () => {
    expect(CONFIG_FIELDS.length).toBeGreaterThan(80);
    for (const f of CONFIG_FIELDS) {
      expect({ key: f.path, env: f.env === null || (Array.isArray(f.env) && f.env.length > 0) }).toEqual({ key: f.path, env: true });
      for (const name of f.env ?? []) expect(name).toMatch(/^PDR_[A-Z][A-Z0-9_]*$/);
      expect({ key: f.path, doc: f.doc.trim().length > 3 }).toEqual({ key: f.path, doc: true });
    }
  });

  it('each variable sets exactly one key', () => {
    const names = ENV_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(ENV_VARS.find((v) => v.name === 'PDR_EXEC_PATH')?.key).toBe('pdr.base_dir');
  });

  it('every declared variable is read: set alone, it is the source of its key', () => {
    for (const v of ENV_VARS) {
      const { sources } = loadConfig({ env: { [v.name]: envSample(v.kind) }, cwd: dir });
      expect({ name: v.name, source: sources[v.key] }).toEqual({ name: v.name, source: 'env' });
    }
  });

  it('every default is valid for its own type; defaults that depend on cwd, environment or clock say so', () => {
    const a: DefaultContext = { cwd: '/a', env: { USER: 'ua' }, now: new Date(2020, 0, 1) };
    const b: DefaultContext = { cwd: '/b', env: { USER: 'ub' }, now: new Date(2021, 5, 6, 7, 8, 9) };
    for (const f of CONFIG_FIELDS.filter((x) => x.default)) {
      const v = f.default!(a);
      if (v !== undefined) expect({ key: f.path, ok: fieldSchema(f.kind).safeParse(v).success }).toEqual({ key: f.path, ok: true });
      if (JSON.stringify(v) !== JSON.stringify(f.default!(b))) expect({ key: f.path, defaultText: !!f.defaultText }).toEqual({ key: f.path, defaultText: true });
    }
  });

  it("each section's zod defaults are the built-in defaults (one declaration)", () => {
    // optional keys whose default depends on the context (and may be absent) are applied by builtInDefaults alone
    const contextOnly = CONFIG_FIELDS.filter((f) => f.default && (SECTIONS[f.section!].shape as Record<string, z.ZodType>)[f.key] instanceof z.ZodOptional);
    expect(contextOnly.map((f) => f.path)).toEqual(['storage.base_dir', 'user.username']);
    jest.useFakeTimers({ now: new Date(2024, 0, 2, 3, 4, 5) });
    try {
      const defaults = builtInDefaults(process.cwd(), process.env, new Date()) as unknown as Record<string, Record<string, unknown>>;
      for (const f of contextOnly) delete defaults[f.section!][f.key];
      for (const [name, schema] of Object.entries(SECTIONS)) {
        expect({ name, value: schema.parse({}) }).toEqual({ name, value: defaults[name] });
      }
    } finally {
      jest.useRealTimers();
    }
  });

  it('defaults never return shared mutable values', () => {
    const a = builtInDefaults(dir, {}, new Date());
    a.model_parameters.dens.push('99');
    a.slurm.setup.push('x');
    const b = builtInDefaults(dir, {}, new Date());
    expect(b.model_parameters.dens).toEqual(['30']);
    expect(b.slurm.setup).toEqual([]);
  });

  it('sectionFromEnv reads one section: defaults, its variables, paths against cwd, secrets masked', () => {
    const { values, sources } = sectionFromEnv('nats', { PDR_NATS_TOKEN: 'CanaryTok-31', PDR_NATS_TLS_CA: 'ca.pem', PDR_DB_PORT: 'bad' }, dir);
    expect(values).toEqual({ url: 'nats://127.0.0.1:4222', token: 'CanaryTok-31', tls_ca: path.join(dir, 'ca.pem') });
    expect(sources).toEqual({ 'nats.token': 'env', 'nats.tls_ca': 'env' });
    expect(maskText('x CanaryTok-31')).toBe('x ***');
  });
});

describe('keys accepted without effect', () => {
  const ignored = CONFIG_FIELDS.filter((f) => f.ignored && !f.ignored.when);

  /** A value of the field's type (its default when it has one). */
  function sample(f: FieldInfo): unknown {
    const d = f.default?.({ cwd: dir, env: {}, now: new Date() });
    return d !== undefined ? d : f.kind === 'path' ? 'some/path' : 'some text';
  }

  it.each(ignored.map((f) => [f.path, f] as const))('%s set in a file: one notice naming it, with line and column', (_p, f) => {
    const data = f.section ? { [f.section]: { [f.key]: sample(f) } } : { [f.key]: sample(f) };
    const file = yamlFile(data);
    const { warnings } = loadConfig({ file, env: {}, cwd: dir });
    const about = warnings.filter((w) => w.includes(f.path));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: accepted for pdr_run compatibility but without effect: ${f.path.replace('.', '\\.')}`));
    expect(about[0]).not.toMatch(/\n/);
  });

  it('the notice names the section as written (alias) and keys that take effect get none', () => {
    const file = yamlFile({ model_params: { default_species: 'CO', dens: ['30'] }, database: { pool_size: 8, host: 'h' } });
    const { warnings } = loadConfig({ file, env: {}, cwd: dir });
    expect(warnings).toEqual([`${file}:2:3: accepted for pdr_run compatibility but without effect: model_parameters.default_species (unused, as in pdr_run)`]);
  });

  it('a section the caller ignores reports nothing (pdr run does not read database)', () => {
    const file = yamlFile({ database: { pool_recycle: 280, connect_args: {} } });
    expect(loadConfig({ file, env: {}, cwd: dir, ignoreSections: ['database'] }).warnings).toEqual([]);
    expect(loadConfig({ file, env: {}, cwd: dir }).warnings).toHaveLength(2);
  });

  it('values without effect only for some values: storage.use_mount true, a directories layout that differs', () => {
    expect(loadConfig({ env: { PDR_STORAGE_USE_MOUNT: 'false' }, cwd: dir }).warnings).toEqual([]);
    expect(loadConfig({ env: { PDR_STORAGE_USE_MOUNT: 'yes' }, cwd: dir }).warnings).toEqual([
      'PDR_STORAGE_USE_MOUNT: storage.use_mount: mount mode is not implemented (as in pdr_run); ignored',
    ]);
    const same = yamlFile({ directories: { pdr_out_dirs: ['pdroutput', 'onionoutput', 'Out'] } });
    expect(loadConfig({ file: same, env: {}, cwd: dir }).warnings).toEqual([]);
    const other = yamlFile({ directories: { pdr_out_dirs: ['out'] } }, 'd.yaml');
    expect(loadConfig({ file: other, env: {}, cwd: dir }).warnings).toEqual([
      `${other}:2:3: directories.pdr_out_dirs differs from the fixed run layout ["pdroutput","onionoutput","Out"] and is ignored`,
    ]);
  });
});

describe('documentation', () => {
  it('docs/configuration.md is generated from the schemas and up to date (npm run docs:config)', () => {
    const doc = fs.readFileSync(path.join(REPO, 'docs/configuration.md'), 'utf8');
    expect(doc).toBe(renderConfigDoc());
    for (const v of ENV_VARS) expect(doc).toContain(`\`${v.name}\``);
  });

  it('every PDR_DB_/PDR_STORAGE_/PDR_NATS_ variable the README names is declared (or is a limit / the namespace)', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const declared = new Set(ENV_VARS.map((v) => v.name));
    const others = new Set(['PDR_NATS_PREFIX', ...Object.keys(LIMITS).map((k) => `PDR_${k}`)]);
    const named = [...readme.matchAll(/\bPDR_(?:DB|STORAGE|NATS)_[A-Z][A-Z0-9_]*\b/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((n) => !declared.has(n) && !others.has(n))).toEqual([]);
  });
});
