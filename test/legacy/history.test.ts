/**
 * After `pdr db upgrade`, pdr_run's history is usable: `pdr status legacy` and `pdr jobs` show the old
 * points, and submitting the same grid again (same model name, points and storage base, its storage
 * tree re-created) runs no executable: the points are found by parameter identity (recomputed from the
 * encoded grid strings; pdr_run stored FLOATs) and their stored outputs are verified by the runner
 * (skipped, with checksums recorded), not assumed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DEFAULT_CHEMISTRY } from '@pdr/domain';
import { all, dropDatabase, run } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { NATS_URL } from '../support/env';
import { mockGridRequest } from '../support/grid-request';
import { MOCK_BASE_DIR, startStack, type Stack } from '../support/stack';
import { describeWithLegacy, loadMariaDump, runPdr, runUpgrade, withEm } from './helpers';

jest.setTimeout(300_000);

const JOBS = ['20', '30'].flatMap((dens) => ['00', '-10'].flatMap((mass) => ['00', '10'].map((chi) => `100_${dens}_${mass}_${chi}_00`)));

describeWithLegacy('pdr_run history after pdr db upgrade', () => {
  const db = testDatabaseSettings();
  let root: string;
  let storage: string;
  let s: Stack;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pdr-legacy-'));
    storage = join(root, 'store');
    await loadMariaDump(db);
    // the storage base of that pdr_run run, here: where its tree is re-created
    await withEm(db, (em) => run(em, 'UPDATE model_names SET model_path = ? WHERE id = 1', [join(storage, 'legacy')]));
    const up = await runUpgrade(db);
    expect(up.code).toBe(0);
    s = await startStack({ runners: 1, concurrency: 2, state: { db } });
  });

  afterAll(async () => {
    await s?.close();
    await dropDatabase(db);
    rmSync(root, { recursive: true, force: true });
  });

  it('pdr status legacy / pdr jobs show the old points; the same grid again runs nothing and ends all done', async () => {
    const env = { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: s.ns };
    const status = await runPdr(['status', 'legacy'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/finished\s+8/);
    const jobs = await runPdr(['jobs', '--model', 'legacy', '--json'], env);
    expect(jobs.stderr).toBe('');
    const listed = JSON.parse(jobs.stdout) as { jobName: string; status: string }[];
    expect(listed.map((j) => j.jobName).sort()).toEqual([...JOBS].sort());
    expect(new Set(listed.map((j) => j.status))).toEqual(new Set(['finished']));

    // pdr_run's storage tree of the grid, re-created (what its mock KOSMA-tau run left there)
    const pdrgrid = join(storage, 'legacy', 'pdrgrid');
    mkdirSync(pdrgrid, { recursive: true });
    for (const job of JOBS) {
      for (const f of [`pdr${job}.hdf`, `pdrstruct${job}.hdf5`, `pdrchem${job}.hdf5`, `CTRL_IND${job}`, `TEXTOUT${job}`]) writeFileSync(join(pdrgrid, f), `${f} of pdr_run's run\n`);
    }

    const request = mockGridRequest(MOCK_BASE_DIR, storage, {
      modelName: 'legacy',
      axes: { metal: ['100'], dens: ['20', '30'], mass: ['00', '-10'], chi: ['00', '10'] },
      physics: { alpha: 1.5, rcore: 0.2, chemistry: DEFAULT_CHEMISTRY, nonDefault: {} },
      onionSpecies: ['CO', 'C+'],
    });
    const sub = await s.client.request('gridSubmit', { v: 1, request });
    // the 8 old jobs, found by identity (none created), queued once to have their outputs verified
    expect(sub).toMatchObject({ total: 8, created: 0 });
    const { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts.skipped + grid.counts.finished).toBe(8);
    expect(grid.counts.failed + grid.counts.problem).toBe(0);

    const em = s.state.orm.em.fork();
    expect(await all(em, 'SELECT COUNT(*) AS n FROM pdr_model_jobs')).toEqual([{ n: 8 }]);
    // zero executables: no attempt started PDR or onion; each verified the stored outputs
    const steps = await all<{ step: string; n: number }>(em, 'SELECT step, COUNT(*) AS n FROM job_steps GROUP BY step ORDER BY step');
    expect(steps.map((x) => x.step)).not.toContain('pdr-started');
    expect(steps.map((x) => x.step)).not.toContain('onion-started');
    expect(steps).toContainEqual({ step: 'outputs-exist', n: 8 });
    // what the runner found is recorded with checksums
    expect(await all(em, "SELECT COUNT(DISTINCT job_id) AS n FROM job_files WHERE role = 'hdf4'")).toEqual([{ n: 8 }]);

    const after = await runPdr(['status', 'legacy'], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(new RegExp(`grid ${sub.gridId} `));
    expect(after.stdout).toMatch(/skipped\s+8/);

    // verified once: the next submission has nothing to do
    const again = await s.client.request('gridSubmit', { v: 1, request });
    expect(again).toMatchObject({ created: 0, queued: 0, alreadyDone: 8 });
  });
});
