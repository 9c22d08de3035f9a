/**
 * `pdr db upgrade` on the database pdr_run itself wrote (../shared/compat/pdr_run-db, MariaDB dump):
 * the state service refuses it until upgraded, the dry run reports the merges and changes nothing,
 * the upgrade refuses while another connection uses the database, completes, leaves exactly the
 * schema a fresh database gets, keeps every old row reachable, and — killed at a random step — run
 * again ends with the same rows as an uninterrupted upgrade.
 */
import { createConnection } from 'mysql2/promise';
import { buildParameterRow, parameterHash } from '@pdr/domain';
import { all, createOrm, databaseEnv, dropDatabase, ensureDatabase, migrateUp, PDR_RUN_TABLES, type DatabaseSettings } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { startStateService } from '../../apps/state/src/main';
import { quietLogger, NATS_URL } from '../state/helpers';
import { describeWithLegacy, loadMariaDump, runNode, runPdrDbUpgrade, runUpgrade, snapshotRows, snapshotSchema, STATE_MAIN, withEm } from './helpers';

jest.setTimeout(300_000);

const dbs: DatabaseSettings[] = [];
function scratch(): DatabaseSettings {
  const db = testDatabaseSettings();
  dbs.push(db);
  return db;
}

afterAll(async () => {
  for (const db of dbs) await dropDatabase(db).catch(() => undefined);
});

async function idsOf(db: DatabaseSettings): Promise<Record<string, number[]>> {
  return withEm(db, async (em) => {
    const out: Record<string, number[]> = {};
    for (const t of PDR_RUN_TABLES) out[t] = (await all<{ id: number }>(em, `SELECT id FROM ${t} ORDER BY id`)).map((r) => r.id);
    return out;
  });
}

describeWithLegacy('pdr db upgrade of a pdr_run MariaDB database', () => {
  let upgraded: DatabaseSettings;
  let legacyIds: Record<string, number[]>;
  /** stdout of the uninterrupted upgrade. */
  let upgradeOutput = '';

  beforeAll(async () => {
    upgraded = scratch();
    await loadMariaDump(upgraded);
    legacyIds = await idsOf(upgraded);
  });

  it('the state service refuses the pdr_run schema with one line naming `pdr db upgrade`, and changes nothing', async () => {
    const before = await snapshotRows(upgraded);
    const schemaBefore = await snapshotSchema(upgraded);
    await expect(startStateService({ db: upgraded, natsUrl: NATS_URL, ns: 'tlegacyrefuse', logger: quietLogger(), reconcile: false })).rejects.toThrow(
      /holds a pdr_run schema that has not been upgraded yet .*run `pdr db upgrade`/,
    );
    const proc = await runNode(STATE_MAIN, [], { ...databaseEnv(upgraded), PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: 'tlegacyrefuse' });
    expect(proc.code).toBe(2);
    expect(proc.stderr.trim().split('\n')).toHaveLength(1);
    expect(proc.stderr).toMatch(/^state: error: database mysql:\/\/.* holds a pdr_run schema .*`pdr db upgrade`/);
    expect(proc.stderr).not.toMatch(/already exists/);
    expect(await snapshotRows(upgraded)).toEqual(before);
    expect(await snapshotSchema(upgraded)).toEqual(schemaBefore);
  });

  it('pdr db upgrade --dry-run reports tables, type changes, duplicates and how they merge, the backup command; changes nothing', async () => {
    const before = await snapshotRows(upgraded);
    const schemaBefore = await snapshotSchema(upgraded);
    const r = await runPdrDbUpgrade(upgraded, ['--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("pdr_run's schema (9 of its 9 tables)");
    expect(r.stdout).toMatch(/back it up first: mariadb-dump --single-transaction -h \S+ -P \d+ -u \S+ pdr_test_\w+ > /);
    expect(r.stdout).toContain('rows: model_names 1, users 1, kosmatau_executables 1, chemical_databases 1, kosmatau_parameters 8, json_templates 0, pdr_model_jobs 16, hdf_files 8, json_files 8');
    expect(r.stdout).toMatch(/kosmatau_parameters: float → double: 60 columns/);
    expect(r.stdout).toMatch(/pdr_model_jobs: varchar\(255\) → text: 9 columns \(onion_species/);
    expect(r.stdout).toContain('job statuses: finished 8 (kept), skipped 8 (kept)');
    expect(r.stdout).toContain('parameter identity: 8 row(s) by the encoded grid strings of the job name');
    expect(r.stdout).toContain('pdr_model_jobs (model_name_id, kosmatau_parameters_id): 8 row(s) into 8: 9 → 1, 10 → 2, 11 → 3, 12 → 4, 13 → 5, 14 → 6, 15 → 7, 16 → 8');
    expect(r.stdout).toContain('hdf_files without job_id: 7 (each linked to the job of its model and parameters, if that job has none)');
    expect(r.stdout).toContain('dry run: nothing was changed');
    expect(r.stdout).not.toMatch(/^step /m);
    expect(await snapshotRows(upgraded)).toEqual(before);
    expect(await snapshotSchema(upgraded)).toEqual(schemaBefore);
  });

  it('a database password never appears in the output, not even in a connection error', async () => {
    const r = await runNode(STATE_MAIN, ['upgrade', '--dry-run'], { ...databaseEnv(upgraded), PDR_DB_PASSWORD: 'sekret-pw-4711' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pdr db upgrade: error: .*Access denied/);
    expect(r.stdout + r.stderr).not.toContain('sekret-pw-4711');
  });

  it('refuses while another connection uses the database (MariaDB processlist), changing nothing', async () => {
    const before = await snapshotRows(upgraded);
    const other = await createConnection({ host: upgraded.host, port: upgraded.port, user: upgraded.user, password: upgraded.password, database: upgraded.database });
    try {
      const r = await runPdrDbUpgrade(upgraded);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/is in use by 1 other connection\(s\) .*stop pdr_run and every state service on it first; nothing was changed/);
    } finally {
      await other.end();
    }
    expect(await snapshotRows(upgraded)).toEqual(before);
  });

  it('upgrades: the schema of a fresh database, every old row reachable, the state service starts, a second run changes nothing', async () => {
    const r = await runUpgrade(upgraded);
    upgradeOutput = r.stdout;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^step (\d+)\/\1: record the schema version/m);
    expect(r.stdout).toContain('upgrade done');

    // the same tables, columns, types, defaults, unique keys, indexes and foreign keys as a new database
    const fresh = scratch();
    await ensureDatabase(fresh);
    const orm = await createOrm(fresh);
    try {
      await migrateUp(orm);
    } finally {
      await orm.close(true);
    }
    const a = await snapshotSchema(upgraded);
    const b = await snapshotSchema(fresh);
    expect(a).toEqual(b);

    // every pdr_run row is still there, or recorded as merged into a row that is
    await withEm(upgraded, async (em) => {
      for (const t of PDR_RUN_TABLES) {
        const present = new Set((await all<{ id: number }>(em, `SELECT id FROM ${t}`)).map((x) => x.id));
        const merged = new Map(
          (await all<{ m: number; s: number }>(em, 'SELECT merged_id AS m, survivor_id AS s FROM legacy_merges WHERE table_name = ?', [t])).map((x) => [x.m, x.s]),
        );
        for (const id of legacyIds[t]) {
          const ok = present.has(id) || (merged.has(id) && present.has(merged.get(id)!));
          if (!ok) throw new Error(`${t} row ${id} is neither kept nor recorded as merged into a kept row`);
        }
      }
      const merges = await all<{ t: string; m: number; s: number; st: string }>(
        em,
        "SELECT table_name AS t, merged_id AS m, survivor_id AS s, JSON_UNQUOTE(JSON_EXTRACT(merged_row, '$.status')) AS st FROM legacy_merges ORDER BY merged_id",
      );
      expect(merges).toEqual([9, 10, 11, 12, 13, 14, 15, 16].map((m) => ({ t: 'pdr_model_jobs', m, s: m - 8, st: 'skipped' })));
      // the second run's json_files now belong to the surviving (finished) jobs; every hdf_files row has its job
      const json = await all<{ j: number }>(em, 'SELECT job_id AS j FROM json_files ORDER BY id');
      expect(json.map((x) => x.j)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const hdf = await all<{ j: number; p: number }>(em, 'SELECT job_id AS j, parameter_id AS p FROM hdf_files ORDER BY id');
      expect(hdf).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ j: i, p: i })));
      // float values are this project's doubles again (0.2 was 0.20000000298… as FLOAT), identities unique
      const p = await all<{ rcore: number; rtot: number; h: string }>(em, 'SELECT rcore, rtot, parameter_hash AS h FROM kosmatau_parameters WHERE id = 1');
      expect(p[0].rcore).toBe(0.2);
      expect(p[0].rtot).toBe(1140806569682192600);
      // the identities are exactly those a new submission of the same grid computes (how old points are found)
      const expected = ['20', '30']
        .flatMap((dens) => ['00', '-10'].flatMap((mass) => ['00', '10'].map((chi) => parameterHash(buildParameterRow({ point: { metal: '100', dens, mass, chi } })))))
        .sort();
      const hashes = (await all<{ h: string }>(em, 'SELECT parameter_hash AS h FROM kosmatau_parameters ORDER BY parameter_hash')).map((x) => x.h);
      expect(hashes).toEqual(expected);
      const jobs = await all<{ s: string; n: number }>(em, 'SELECT status AS s, COUNT(*) AS n FROM pdr_model_jobs GROUP BY status');
      expect(jobs).toEqual([{ s: 'finished', n: 8 }]);
      // pdr_run had no grids: the model's jobs are one grid now, so pdr status legacy / pdr jobs show them
      const grids = await all<{ id: number; d: string; n: number }>(em, 'SELECT id, description AS d, point_count AS n FROM grids');
      expect(grids).toEqual([{ id: 1, d: 'pdr_run jobs of model "legacy" (adopted from pdr_run\'s database)', n: 8 }]);
      expect(await all(em, 'SELECT COUNT(*) AS n FROM grid_points WHERE grid_id = 1')).toEqual([{ n: 8 }]);
      expect(await all(em, 'SELECT COUNT(*) AS n FROM pdr_model_jobs WHERE grid_id = 1')).toEqual([{ n: 8 }]);
    });

    const state = await startStateService({ db: upgraded, natsUrl: NATS_URL, ns: `tlegacy${Date.now() % 100000}`, logger: quietLogger(), reconcile: false });
    await state.close();

    const rows = await snapshotRows(upgraded);
    const again = await runUpgrade(upgraded);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already this project's schema; nothing to upgrade");
    expect(await snapshotRows(upgraded)).toEqual(rows);
  });

  it('killed at random steps, run again, ends with the same rows and schema as the uninterrupted upgrade', async () => {
    const expected = await snapshotRows(upgraded);
    const expectedSchema = await snapshotSchema(upgraded);
    const db = scratch();
    await loadMariaDump(db);
    const pinned = process.env.PDR_TEST_KILL_STEPS?.split(',').map(Number);
    const steps = Number(/^step 1\/(\d+):/m.exec(upgradeOutput)?.[1] ?? 0);
    expect(steps).toBeGreaterThan(10);
    const kills = pinned ?? [1 + Math.floor(Math.random() * steps), 1 + Math.floor(Math.random() * steps)];
    console.log(`killing the upgrade at steps ${kills.join(', ')} (PDR_TEST_KILL_STEPS=${kills.join(',')} repeats this)`);
    for (const [i, k] of kills.entries()) {
      const r = await runUpgrade(db, [], (line) => line.startsWith(`step ${k}/`));
      // every run starts again at step 1 and prints each step, so step k is always reached and killed;
      // only the last step can finish before the kill lands (and then a next run has nothing to do)
      const lastStepReached = kills.slice(0, i + 1).includes(steps);
      if (!(lastStepReached && r.code === 0)) expect(r.signal).toBe('SIGKILL');
    }
    const last = await runUpgrade(db);
    expect(last.stderr).toBe('');
    expect(last.code).toBe(0);
    expect(await snapshotSchema(db)).toEqual(expectedSchema);
    expect(await snapshotRows(db)).toEqual(expected);
  });
});
