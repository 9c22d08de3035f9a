import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { MOCK_BASE_DIR, startStack, Stack } from '../support/stack';

jest.setTimeout(120_000);

describe('a grid through the real stack (state + planner + runners, MariaDB, NATS, mock KOSMA-tau)', () => {
  let s: Stack;
  /** 4 densities × 2 FUV fields, 2 species: the 8-point grid of the first tests. */
  const eight = () => s.request({ axes: { dens: ['30', '40', '50', '60'], chi: ['10', '20'] } });
  beforeAll(async () => {
    s = await startStack({ runners: 2, concurrency: 2 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('runs every point exactly once, stores outputs under pdr_run names and records them', async () => {
    const sub = await s.client.request('gridSubmit', { v: 1, request: eight() });
    expect(sub).toMatchObject({ total: 8, created: 8, queued: 8, alreadyDone: 0 });
    const { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts.finished).toBe(8);
    expect(grid.total).toBe(8);

    const pdrgrid = readdirSync(join(s.storageDir, 'e2e_model', 'pdrgrid')).sort();
    for (const job of ['100_30_-10_10_00', '100_50_-10_20_00']) {
      for (const f of [`pdr${job}.hdf`, `pdrstruct${job}.hdf5`, `pdrchem${job}.hdf5`, `TEXTOUT${job}`, `MCDRT${job}.tar.gz`, `PDRNEW${job}.INP`, `pdr_config${job}.json`, `CTRL_IND${job}`]) {
        expect(pdrgrid).toContain(f);
      }
    }
    const oniongrid = readdirSync(join(s.storageDir, 'e2e_model', 'oniongrid'));
    expect(oniongrid).toContain('TEXTOUT100_30_-10_10_00_CO');
    expect(oniongrid).toContain('TEXTOUT100_30_-10_10_00_C+');

    const { jobs } = await s.client.request('jobsQuery', { v: 1, gridId: sub.gridId, withFiles: true, withParameters: true, limit: 100 });
    expect(jobs).toHaveLength(8);
    for (const j of jobs) {
      expect(j.status).toBe('finished');
      expect(j.attempt).toBe(1); // exactly once
      expect(j.executionMs).not.toBeNull();
      expect(j.timeOfStart).not.toBeNull();
      const hdf = j.files!.find((f) => f.role === 'hdf4')!;
      expect(existsSync(hdf.fullPath)).toBe(true);
    }
    // each attempt's history is complete and in order (steps batched by the runner, the last ones with the outcome)
    const history = await s.client.request('jobGet', { v: 1, jobId: jobs[0].jobId });
    expect(history.attempts.map((a) => a.steps.map((st) => st.step))).toEqual([
      ['setup-finished', 'pdr-started', 'pdr-finished', 'onion-started', 'onion-finished', 'onion-started', 'onion-finished', 'outputs-stored'],
    ]);
    expect(history.attempts[0].steps.find((st) => st.step === 'pdr-started')!.detail).toMatchObject({ pid: expect.any(Number) });
    // every job's outputs differ (inputs differ), and pdr_run's parameter columns are there
    const shas = new Set(jobs.map((j) => j.files!.find((f) => f.role === 'hdf4')!.sha256));
    expect(shas.size).toBe(8);
    expect(jobs.find((j) => j.jobName === '100_30_-10_10_00')!.parameters).toMatchObject({ xnsur: 1000, sint: 10, zmetal: 1 });

    // the same grid again inserts nothing and runs nothing
    const again = await s.client.request('gridSubmit', { v: 1, request: eight() });
    expect(again).toMatchObject({ gridId: sub.gridId, created: 0, queued: 0, alreadyDone: 8 });
  });

  it('skips a point whose outputs are already stored instead of running PDR again', async () => {
    // the outcome of one finished point is lost (as if state had not recorded it): the job runs again
    const { jobs } = await s.client.request('jobsQuery', { v: 1, modelName: 'e2e_model', limit: 1 });
    const job = jobs[0];
    const hdf = join(s.storageDir, 'e2e_model', 'pdrgrid', `pdr${job.jobName}.hdf`);
    const mtime = statSync(hdf).mtimeMs;
    await s.state.orm.em.fork().getConnection().execute(`UPDATE pdr_model_jobs SET status = 'failed' WHERE id = ?`, [job.jobId]);
    const retry = await s.client.request('plannerRetry', { v: 1, selector: { gridId: job.gridId! } });
    expect(retry.queued).toBe(1);
    await s.waitIdle(job.gridId!);
    const after = await s.client.request('jobGet', { v: 1, jobId: job.jobId });
    expect(after.job.status).toBe('skipped');
    expect(after.attempts.at(-1)!.steps.map((st) => st.step)).toContain('outputs-exist');
    expect(after.attempts.at(-1)!.steps.map((st) => st.step)).not.toContain('pdr-started');
    expect(statSync(hdf).mtimeMs).toBe(mtime);
  });

  it('--force-onion re-runs onion only for points that finished, restoring what onion needs', async () => {
    const req = eight();
    const onionTextout = join(s.storageDir, 'e2e_model', 'oniongrid', 'TEXTOUT100_40_-10_20_00_CO');
    const hdf = join(s.storageDir, 'e2e_model', 'pdrgrid', 'pdr100_40_-10_20_00.hdf');
    const before = { onion: statSync(onionTextout).mtimeMs, hdf: statSync(hdf).mtimeMs };
    const sub = await s.client.request('gridSubmit', { v: 1, request: { ...req, run: { ...req.run, forceOnion: true } } });
    expect(sub).toMatchObject({ total: 8, created: 0, queued: 8 });
    const { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts.finished + grid.counts.skipped).toBe(8);
    expect(grid.counts.problem + grid.counts.failed).toBe(0);
    const { jobs } = await s.client.request('jobsQuery', { v: 1, gridId: sub.gridId, limit: 10 });
    const detail = await s.client.request('jobGet', { v: 1, jobId: jobs.find((j) => j.jobName === '100_40_-10_20_00')!.jobId });
    const steps = detail.attempts.at(-1)!.steps.map((st) => st.step);
    expect(steps).toContain('onion-started');
    expect(steps).not.toContain('pdr-started');
    expect(statSync(onionTextout).mtimeMs).toBeGreaterThan(before.onion);
    expect(statSync(hdf).mtimeMs).toBe(before.hdf);
  });

  it("runs on a base dir laid out like pdr_run's own sandbox, whose mock executables only touch files", async () => {
    const base = mkdtempSync(join(tmpdir(), 'pdr-run-style-'));
    for (const d of ['templates', 'pdrinpdata', 'onioninpdata', 'In']) cpSync(join(MOCK_BASE_DIR, d), join(base, d), { recursive: true });
    const script = (body: string) => `#!/bin/sh\n${body}\nexit 0\n`;
    const exes: Record<string, string> = {
      mockpdr: script('sleep 0\nmkdir -p pdroutput Out\ntouch pdroutput/pdrstruct_s.hdf5 pdroutput/pdrchem_c.hdf5 pdroutput/pdrout.hdf pdroutput/TEXTOUT pdroutput/CTRL_IND Out/mock.out'),
      mockonion: script('mkdir -p onionoutput\ntouch onionoutput/jerg_CO.smli'),
      mockgetctrlind: script('touch CTRL_IND'),
      mockmrt: script('touch Out/mock.out'),
    };
    for (const [name, body] of Object.entries(exes)) {
      writeFileSync(join(base, name), body);
      chmodSync(join(base, name), 0o755);
    }
    mkdirSync(join(base, 'pdroutput'), { recursive: true });
    const req = s.request({ modelName: 'e2e_pdr_run_style', axes: { dens: ['30', '40'], chi: ['10'] }, onionSpecies: ['CO'] });
    const sub = await s.client.request('gridSubmit', { v: 1, request: { ...req, run: { ...req.run, baseDir: base } } });
    const { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts).toMatchObject({ finished: 2, problem: 0, failed: 0 });
    const stored = readdirSync(join(s.storageDir, 'e2e_pdr_run_style', 'pdrgrid'));
    expect(stored).toEqual(expect.arrayContaining(['pdr100_30_-10_10_00.hdf', 'CTRL_IND100_40_-10_10_00', 'PDRNEW100_40_-10_10_00.INP']));
    expect(readdirSync(join(s.storageDir, 'e2e_pdr_run_style', 'oniongrid'))).toContain('ONION100_30_-10_10_00.jerg_CO.smli');
  });

  it('records a failing point as problem, the rest finished; retry re-runs only the failed one', async () => {
    process.env.MOCK_PDR_FAIL_MATCH = '_40_';
    process.env.MOCK_PDR_EXIT = '3';
    const req = s.request({ modelName: 'e2e_fail', axes: { dens: ['30', '40'], chi: ['10'] } });
    const sub = await s.client.request('gridSubmit', { v: 1, request: req });
    let { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts).toMatchObject({ finished: 1, problem: 1 });
    const { jobs } = await s.client.request('jobsQuery', { v: 1, gridId: sub.gridId, status: ['problem'] });
    expect(jobs[0].jobName).toBe('100_40_-10_10_00');
    expect(jobs[0].reason).toBeTruthy();

    delete process.env.MOCK_PDR_FAIL_MATCH;
    delete process.env.MOCK_PDR_EXIT;
    const retry = await s.client.request('plannerRetry', { v: 1, selector: { gridId: sub.gridId } });
    expect(retry.queued).toBe(1);
    ({ grid } = await s.waitIdle(sub.gridId));
    expect(grid.counts).toMatchObject({ finished: 2, problem: 0 });
    const after = await s.client.request('jobGet', { v: 1, jobId: jobs[0].jobId });
    expect(after.attempts.map((a) => a.status)).toEqual(['problem', 'finished']);
  });

  it('cancels the points that have not started', async () => {
    process.env.MOCK_PDR_SECONDS = '1';
    try {
      const req = s.request({ modelName: 'e2e_cancel', axes: { dens: ['30', '31', '32', '33', '34', '35', '36', '37'], chi: ['10', '11'] } });
      const sub = await s.client.request('gridSubmit', { v: 1, request: req });
      const c = await s.client.request('plannerCancel', { v: 1, selector: { gridId: sub.gridId }, kill: false });
      expect(c.cancelled).toBeGreaterThan(0);
      const { grid } = await s.waitIdle(sub.gridId);
      expect(grid.counts.cancelled).toBe(c.cancelled);
      expect(grid.counts.finished + grid.counts.cancelled).toBe(16);
    } finally {
      delete process.env.MOCK_PDR_SECONDS;
    }
  });

  it('cancel --kill stops running points at once and records them cancelled', async () => {
    process.env.MOCK_PDR_SECONDS = '60';
    try {
      const req = s.request({ modelName: 'e2e_kill', axes: { dens: ['30', '31', '32'], chi: ['10'] } });
      const sub = await s.client.request('gridSubmit', { v: 1, request: req });
      for (let i = 0; i < 100; i++) {
        const { grid } = await s.client.request('gridStatus', { v: 1, selector: { gridId: sub.gridId } });
        if (grid.counts.running > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await s.client.request('plannerCancel', { v: 1, selector: { gridId: sub.gridId }, kill: true });
      const { grid } = await s.waitIdle(sub.gridId, 45_000);
      expect(grid.counts.cancelled).toBe(3);
      const { jobs } = await s.client.request('jobsQuery', { v: 1, gridId: sub.gridId });
      const killed = jobs.filter((j) => j.attempt > 0);
      expect(killed.length).toBeGreaterThan(0);
      for (const j of killed) {
        expect(j.reason).toMatch(/cancel/i);
        // the 60 s executable was killed by a signal, it did not run to its end
        const { attempts } = await s.client.request('jobGet', { v: 1, jobId: j.jobId });
        const steps = attempts.at(-1)!.steps;
        for (const st of steps.filter((x) => x.step === 'pdr-finished')) expect((st.detail as { exitCode: number | null }).exitCode).not.toBe(0);
        expect(existsSync(join(s.storageDir, 'e2e_kill', 'pdrgrid', `pdr${j.jobName}.hdf`))).toBe(false);
      }
    } finally {
      delete process.env.MOCK_PDR_SECONDS;
    }
  });
});
