/**
 * Canary passwords through every configuration path — `database.password` and `storage.password` in a
 * config file, PDR_DB_PASSWORD and PDR_STORAGE_PASSWORD in the environment of every service and of the
 * CLI, and the state service's own `--config FILE` — while a real grid runs end to end (the database
 * passwords are real: two MariaDB users made for this test, dropped afterwards), plus a state service
 * given a wrong one and a CLI config error. None of the canaries may appear in any service's output
 * (debug level), the CLI's output (dry-run, run, error), a stored file, a kept job directory or a
 * database row.
 */
import { randomBytes } from 'crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { testDatabaseSettings } from '../support/database';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { Proc, runCli, spawnProc, cleanEnv, SERVICE_MAIN, startService } from '../support/processes';

jest.setTimeout(180_000);

const tag = randomBytes(4).toString('hex');
const CANARY = {
  dbEnv: `CanaryDbEnv_${tag}_pw`,
  dbFile: `CanaryDbFile_${tag}_pw`,
  dbWrong: `CanaryDbWrong_${tag}_pw`,
  storageEnv: `CanaryStorageEnv_${tag}_pw`,
  storageFile: `CanaryStorageFile_${tag}_pw`,
};
const USER_ENV = `pdrc_${tag}_e`;
const USER_FILE = `pdrc_${tag}_f`;
const admin = testDatabaseSettings();

let s: ProcStack;
let mysql: import('mysql2/promise').Connection;
const outputs: string[] = [];
const extra: Proc[] = [];

async function createUser(user: string, password: string): Promise<void> {
  for (const host of ['127.0.0.1', 'localhost']) {
    await mysql.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await mysql.query('GRANT ALL PRIVILEGES ON `pdr\\_test\\_%`.* TO ?@?', [user, host]);
  }
}

beforeAll(async () => {
  const m = await import('mysql2/promise');
  mysql = await m.createConnection({ host: admin.host, port: admin.port, user: admin.user, password: admin.password });
  await createUser(USER_ENV, CANARY.dbEnv);
  await createUser(USER_FILE, CANARY.dbFile);
  s = await startProcStack({
    runners: 1,
    prefix: 's',
    env: { PDR_LOG_LEVEL: 'debug', PDR_DB_USERNAME: USER_ENV, PDR_DB_PASSWORD: CANARY.dbEnv, PDR_STORAGE_PASSWORD: CANARY.storageEnv },
  });
});
afterAll(async () => {
  for (const p of extra) await p.stop(2_000);
  await s?.close();
  for (const u of [USER_ENV, USER_FILE]) for (const host of ['127.0.0.1', 'localhost']) await mysql?.query('DROP USER IF EXISTS ?@?', [u, host]).catch(() => undefined);
  await mysql?.end();
});

function cliConfig(name: string, extraYaml = ''): string {
  const p = join(s.root, `${name}.yaml`);
  writeFileSync(
    p,
    [
      'pdr:',
      `  model_name: ${name}`,
      `  base_dir: ${s.baseDir}`,
      '  pdr_file_name: countpdr',
      '  onion_file_name: mockonion',
      '  chem_database: chem_rates_mock.dat',
      'database:',
      `  username: ${USER_FILE}`,
      `  password: ${CANARY.dbFile}`,
      'storage:',
      '  type: local',
      `  base_dir: ${s.storageDir}`,
      `  password: ${CANARY.storageFile}`,
      'model_parameters:',
      '  dens: ["30", "40"]',
      '  chi: ["10"]',
      '  species: ["CO"]',
      extraYaml,
      '',
    ].join('\n'),
  );
  return p;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(args, {
    env: { PDR_NATS_URL: s.natsUrl, PDR_NATS_PREFIX: s.ns, PDR_DB_PASSWORD: CANARY.dbEnv, PDR_STORAGE_PASSWORD: CANARY.storageEnv, ...env },
    cwd: s.root,
    timeoutMs: 90_000,
  });
  outputs.push(`--- pdr ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Every regular file below `dir` with its content. */
function filesUnder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push([p, readFileSync(p, 'latin1')]);
    }
  };
  walk(dir);
  return out;
}

function leaks(text: string): string[] {
  return Object.entries(CANARY)
    .filter(([, v]) => text.includes(v))
    .map(([k]) => k);
}

it('a dry run shows the passwords masked', async () => {
  const r = await cli(['run', '--config', cliConfig('secret_dry'), '--dry-run']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^PDR_DB_PASSWORD: \*\*\*$/m);
  expect(r.stdout).toMatch(/^PDR_STORAGE_PASSWORD: \*\*\*$/m);
  expect(leaks(r.stdout + r.stderr)).toEqual([]);
});

it('a config error shows no password', async () => {
  const r = await cli(['run', '--config', cliConfig('secret_error', `non_default_parameters:\n  ${CANARY.dbFile.slice(0, 6)}typo: 1`)]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/^pdr: error: /);
  expect(leaks(r.stdout + r.stderr)).toEqual([]);
});

it('a grid runs with the canaries set everywhere (state connected with the env password)', async () => {
  const r = await cli(['run', '--config', cliConfig('secret_run'), '--keep-tmp']);
  expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: expect.any(String) });
  const rows = await s.sql<{ status: string }>("SELECT j.status FROM pdr_model_jobs j JOIN model_names m ON m.id = j.model_name_id WHERE m.model_name = 'secret_run'");
  expect(rows.map((x) => x.status)).toEqual(['finished', 'finished']);
});

it('the state service started with --config FILE (password only in the file) serves the next grid', async () => {
  const stateFile = join(s.root, 'state-config.yaml');
  writeFileSync(stateFile, `database:\n  host: ${admin.host}\n  port: ${admin.port}\n  database: ${s.db.database}\n  username: ${USER_FILE}\n  password: ${CANARY.dbFile}\n`);
  await s.state.stop(5_000);
  const st = await startService('state', { name: 'state-with-config', args: ['--config', stateFile], env: { ...s.env, PDR_DB_USERNAME: '', PDR_DB_PASSWORD: '', PDR_DB_HOST: '', PDR_DB_PORT: '', PDR_DB_DATABASE: '' } });
  extra.push(st);
  expect(st.output()).toContain(`${USER_FILE}@`); // it did connect as the user of the file
  const r = await cli(['run', '--config', cliConfig('secret_run2'), '--keep-tmp']);
  expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: expect.any(String) });
});

it('a state service given a wrong password fails with a message that does not show it', async () => {
  const p = spawnProc(process.execPath, [SERVICE_MAIN.state], {
    name: 'state-wrong-password',
    env: cleanEnv({ ...s.env, PDR_NATS_PREFIX: `${s.ns}x`, PDR_LOG_LEVEL: 'debug', PDR_DB_USERNAME: USER_ENV, PDR_DB_PASSWORD: CANARY.dbWrong }),
  });
  extra.push(p);
  const t = setTimeout(() => p.signal('SIGKILL'), 60_000);
  const { code } = await p.exited;
  clearTimeout(t);
  expect(code).not.toBe(0);
  expect(p.output()).toMatch(/Access denied/);
});

it('no canary in any log, output, stored file, kept job directory or database row', async () => {
  const logs = [s.logs(), ...extra.map((p) => `--- ${p.name}\n${p.output()}`), ...outputs].join('\n');
  expect(logs).toMatch(/service listening/); // the capture works
  expect(leaks(logs)).toEqual([]);

  const stored = filesUnder(s.storageDir);
  expect(stored.length).toBeGreaterThanOrEqual(2 * 13);
  const work = filesUnder(s.workDir);
  expect(work.some(([p]) => p.endsWith('PDRNEW.INP'))).toBe(true); // --keep-tmp kept the job directories
  for (const [p, content] of [...stored, ...work]) expect({ file: p, leaks: leaks(content) }).toEqual({ file: p, leaks: [] });

  const tables = await s.sql<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?', [s.db.database]);
  expect(tables.length).toBeGreaterThan(5);
  for (const { t } of tables) {
    const rows = await s.sql(`SELECT * FROM \`${t}\``);
    expect({ table: t, leaks: leaks(JSON.stringify(rows)) }).toEqual({ table: t, leaks: [] });
  }
});
