/**
 * `pdr db import --from pdr.db` with the SQLite database pdr_run itself wrote (built from
 * ../shared/compat/pdr_run-db/legacy-sqlite.sql): the CLI streams its rows to a real state service,
 * duplicates merge as in the upgrade, the parameter rows get this project's identities, and a second
 * import changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { buildParameterRow, parameterHash } from '@pdr/domain';
import { all } from '@pdr/persistence';
import { NATS_URL, startHarness, type Harness } from '../state/helpers';
import { buildSqlite, describeWithLegacy, runPdr, snapshotRows } from './helpers';

jest.setTimeout(300_000);

describeWithLegacy('pdr db import of a pdr_run SQLite database', () => {
  let h: Harness;
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pdr-import-'));
    file = join(dir, 'pdr.db');
    buildSqlite(file);
    h = await startHarness();
    env = { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: h.ns };
  });

  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad inputs: a missing file, a file that is not SQLite, a bad model name — one line each, exit 2', async () => {
    const missing = await runPdr(['db', 'import', '--from', join(dir, 'nope.db')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^pdr: error: --from .*nope\.db: no such file$/);
    const text = join(dir, 'text.db');
    writeFileSync(text, 'not a database\n'.repeat(100));
    const notSqlite = await runPdr(['db', 'import', '--from', text], env);
    expect(notSqlite.code).toBe(2);
    expect(notSqlite.stderr.trim().split('\n')).toHaveLength(1);
    expect(notSqlite.stderr).toMatch(/--from .*text\.db: not a readable SQLite database/);
    const badName = await runPdr(['db', 'import', '--from', file, '--model-name', 'a/b'], env);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/--model-name "a\/b": must be a plain name/);
  });

  it('imports through the state service: duplicates merged, identities of this project, one grid; twice = once', async () => {
    const first = await runPdr(['db', 'import', '--from', file], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('pdr_model_jobs: 16 row(s): 8 inserted, 8 merged into an existing row, 0 imported before');
    expect(first.stdout).toContain('kosmatau_parameters: 8 row(s): 8 inserted, 0 merged into an existing row, 0 imported before');

    const em = h.em();
    // the point identities are exactly those a new submission of the grid computes
    const expected = ['20', '30']
      .flatMap((dens) => ['00', '-10'].flatMap((mass) => ['00', '10'].map((chi) => parameterHash(buildParameterRow({ point: { metal: '100', dens, mass, chi } })))))
      .sort();
    const hashes = (await all<{ h: string }>(em, 'SELECT parameter_hash AS h FROM kosmatau_parameters ORDER BY parameter_hash')).map((r) => r.h);
    expect(hashes).toEqual(expected);
    expect(await all(em, 'SELECT status, COUNT(*) AS n FROM pdr_model_jobs GROUP BY status')).toEqual([{ status: 'finished', n: 8 }]);
    const merged = await all<{ m: number; st: string }>(
      em,
      "SELECT merged_id AS m, JSON_UNQUOTE(JSON_EXTRACT(merged_row, '$.status')) AS st FROM legacy_merges WHERE table_name = 'pdr_model_jobs' ORDER BY merged_id",
    );
    expect(merged).toEqual([9, 10, 11, 12, 13, 14, 15, 16].map((m) => ({ m, st: 'skipped' })));
    // every json_files/hdf_files row hangs on one of the 8 (finished) jobs
    expect(await all(em, 'SELECT COUNT(DISTINCT job_id) AS n, COUNT(*) AS r FROM json_files')).toEqual([{ n: 8, r: 8 }]);
    expect(await all(em, 'SELECT COUNT(DISTINCT job_id) AS n, COUNT(*) AS r FROM hdf_files')).toEqual([{ n: 8, r: 8 }]);

    const status = await runPdr(['status', 'legacy'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/model legacy/);
    expect(status.stdout).toMatch(/finished\s+8/);

    const before = await snapshotRows(h.db);
    const second = await runPdr(['db', 'import', '--from', file], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('pdr_model_jobs: 16 row(s): 0 inserted, 0 merged into an existing row, 16 imported before');
    expect(await snapshotRows(h.db)).toEqual(before);

    // --model-name: the file's model under another name, a model of its own with its own points
    const renamed = await runPdr(['db', 'import', '--from', file, '--model-name', 'legacy_copy'], env);
    expect(renamed.code).toBe(0);
    expect(await all(em, 'SELECT model_name AS m FROM model_names ORDER BY id')).toEqual([{ m: 'legacy' }, { m: 'legacy_copy' }]);
    expect(await all(em, 'SELECT model_name_id AS m, COUNT(*) AS n FROM pdr_model_jobs GROUP BY model_name_id ORDER BY m')).toEqual([
      { m: 1, n: 8 },
      { m: 2, n: 8 },
    ]);
  });
});
