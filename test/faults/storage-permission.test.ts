/**
 * Fault: the storage folder is not writable (EACCES) while a grid runs. The runner runs as an unprivileged
 * user (CI runs as root, for whom nothing is unwritable), in its own process. Every point runs PDR once,
 * fails at once (permanent, no retries) with the reason and the quarantine folder, nothing is recorded as
 * stored; once the folder is fixed, `pdr retry` stores the kept outputs without running PDR again.
 * Also: a storage base under /proc fails at once with a clear reason instead of spinning.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync } from 'fs';
import { createHash } from 'crypto';
import { join } from 'path';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { startService } from '../support/processes';

jest.setTimeout(180_000);

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
if (!asRoot) console.warn('storage permission fault test skipped: needs root to start the runner as another user');

(asRoot ? describe : describe.skip)('storage folder not writable', () => {
  let s: ProcStack;
  beforeAll(async () => {
    s = await startProcStack({ runners: 0 });
    // the unprivileged runner reads the base dir, writes its work dir and the PDR run marker
    chmodSync(s.root, 0o755);
    chmodSync(s.marker, 0o666);
    mkdirSync(s.workDir, { recursive: true });
    chownSync(s.workDir, NOBODY, NOBODY);
    mkdirSync(s.storageDir, { recursive: true });
    chownSync(s.storageDir, NOBODY, NOBODY);
    const r = await startService('runner', { name: 'runner-nobody', env: { ...s.env, HOME: s.workDir }, args: ['--concurrency', '2', '--work-dir', s.workDir], uid: NOBODY, gid: NOBODY });
    s.runners.push(r);
  });
  afterAll(async () => {
    for (const r of s?.runners ?? []) await r.kill();
    await s?.close();
  });

  it('PDR runs once per point, the points fail with the permission error, the outputs survive and are stored by pdr retry', async () => {
    const model = join(s.storageDir, 'eperm_model');
    mkdirSync(model);
    chownSync(model, NOBODY, NOBODY);
    chmodSync(model, 0o555); // the runner's user cannot create pdrgrid/ or oniongrid/ in it
    const request = s.request({ modelName: 'eperm_model', axes: { dens: ['30', '40'], chi: ['10'] } });
    const sub = await s.client.request('gridSubmit', { v: 1, request });
    const grid = await s.waitDone(sub.gridId, 90_000);
    expect(grid.counts).toMatchObject({ failed: 2, finished: 0 });
    const jobs = await s.jobs(sub.gridId);
    for (const j of jobs) {
      expect(j.reason).toMatch(/EACCES/);
      expect(j.reason).toContain(model);
      expect(j.reason).toMatch(/outputs kept in .*\.quarantine\/eperm_model\//);
      expect(j.reason).not.toMatch(/gave up after/); // permanent: failed at the first delivery
      expect(j.attempt).toBe(1);
      expect(j.files ?? []).toEqual([]); // nothing recorded as stored
    }
    const ids = jobs.map((j) => j.jobId);
    const rows = await s.sql<{ n: number }>(`SELECT (SELECT COUNT(*) FROM hdf_files WHERE job_id IN (?)) + (SELECT COUNT(*) FROM job_files WHERE job_id IN (?)) AS n`, [ids, ids]);
    expect(Number(rows[0].n)).toBe(0);
    expect(s.runs().map((r) => r.jobName).sort()).toEqual(['100_30_-10_10_00', '100_40_-10_10_00']);
    for (const j of jobs) expect(existsSync(join(s.workDir, '.quarantine', 'eperm_model', j.jobName, 'quarantine.json'))).toBe(true);

    // the folder is fixed; pdr retry stores the kept outputs, PDR does not run again
    chmodSync(model, 0o755);
    await s.client.request('plannerRetry', { v: 1, selector: { gridId: sub.gridId } });
    const after = await s.waitDone(sub.gridId, 90_000);
    expect(after.counts).toMatchObject({ finished: 2, failed: 0 });
    expect(s.runs()).toHaveLength(2);
    for (const j of await s.jobs(sub.gridId)) {
      const { attempts } = await s.client.request('jobGet', { v: 1, jobId: j.jobId });
      expect(attempts.at(-1)!.steps.map((x) => x.step)).toEqual(['outputs-restored']);
      const hdf = (j.files ?? []).find((f) => f.role === 'hdf4')!;
      expect(createHash('sha256').update(readFileSync(join(model, 'pdrgrid', `pdr${j.jobName}.hdf`))).digest('hex')).toBe(hdf.sha256);
      expect(existsSync(join(s.workDir, '.quarantine', 'eperm_model', j.jobName))).toBe(false);
    }
  });

  it('a storage base under /proc fails the point at once with a clear reason (no spinning, no retries)', async () => {
    const request = s.request({ modelName: 'proc_model', axes: { dens: ['30'], chi: ['10'] } });
    const sub = await s.client.request('gridSubmit', { v: 1, request: { ...request, run: { ...request.run, storage: { type: 'local', baseDir: '/proc/pdr_storage' } } } });
    const grid = await s.waitDone(sub.gridId, 60_000);
    expect(grid.counts).toMatchObject({ failed: 1 });
    const [job] = await s.jobs(sub.gridId);
    expect(job.reason).toMatch(/\/proc\/pdr_storage is on procfs/);
    expect(job.attempt).toBe(1);
  });
});
