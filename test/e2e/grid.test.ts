import { existsSync, readdirSync } from 'fs';
import { join } from 'path';
import { startStack, Stack } from '../support/stack';

jest.setTimeout(120_000);

describe('a grid through the real stack (state + planner + runners, MariaDB, NATS, mock KOSMA-tau)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ runners: 2, concurrency: 2 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('runs every point exactly once, stores outputs under pdr_run names and records them', async () => {
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request() });
    expect(sub).toMatchObject({ total: 6, created: 6, queued: 6, alreadyDone: 0 });
    const { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts.finished).toBe(6);
    expect(grid.total).toBe(6);

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
    expect(jobs).toHaveLength(6);
    for (const j of jobs) {
      expect(j.status).toBe('finished');
      expect(j.attempt).toBe(1); // exactly once
      expect(j.executionMs).not.toBeNull();
      expect(j.timeOfStart).not.toBeNull();
      const hdf = j.files!.find((f) => f.role === 'hdf4')!;
      expect(existsSync(hdf.fullPath)).toBe(true);
    }
    // every job's outputs differ (inputs differ), and pdr_run's parameter columns are there
    const shas = new Set(jobs.map((j) => j.files!.find((f) => f.role === 'hdf4')!.sha256));
    expect(shas.size).toBe(6);
    expect(jobs.find((j) => j.jobName === '100_30_-10_10_00')!.parameters).toMatchObject({ xnsur: 1000, sint: 10, zmetal: 1 });

    // the same grid again inserts nothing and runs nothing
    const again = await s.client.request('gridSubmit', { v: 1, request: s.request() });
    expect(again).toMatchObject({ gridId: sub.gridId, created: 0, queued: 0, alreadyDone: 6 });
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
});
