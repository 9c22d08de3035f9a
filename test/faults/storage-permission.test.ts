/**
 * Fault: the storage folder is not writable (EACCES) while a grid runs. The runner runs as an unprivileged
 * user (CI runs as root, for whom nothing is unwritable), in its own process. Every point runs PDR once,
 * fails at once (permanent, no retries) with the reason and the quarantine folder, nothing is recorded as
 * stored; once the folder is fixed, `pdr retry` stores the kept outputs without running PDR again.
 * The retry may be claimed by another runner: the quarantine folder is recorded with the job, so a runner
 * of the same machine (another work dir) stores those outputs; one on another machine says it cannot reach
 * them and runs PDR again. Also: a storage base under /proc fails at once with a clear reason instead of
 * spinning.
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

  it('a retry on ANOTHER runner (another work dir of this machine) stores the outputs the first one kept; kept on another host: says so, PDR runs again', async () => {
    for (const r of s.runners.splice(0)) await r.kill();
    const startRunner = async (name: string, workDir: string) => {
      mkdirSync(workDir, { recursive: true });
      chownSync(workDir, NOBODY, NOBODY);
      const r = await startService('runner', { name, env: { ...s.env, HOME: workDir }, args: ['--concurrency', '2', '--work-dir', workDir], uid: NOBODY, gid: NOBODY });
      s.runners.push(r);
      return r;
    };
    const workA = join(s.root, 'work-a');
    const workB = join(s.root, 'work-b');
    const a = await startRunner('runner-a', workA);
    const model = join(s.storageDir, 'moved_model');
    mkdirSync(model);
    chownSync(model, NOBODY, NOBODY);
    chmodSync(model, 0o555);
    const runsBefore = s.runs().length;
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'moved_model', axes: { dens: ['30', '40'], chi: ['10'] } }) });
    expect((await s.waitDone(sub.gridId, 90_000)).counts).toMatchObject({ failed: 2 });
    const jobs = await s.jobs(sub.gridId);
    const [here, elsewhere] = [jobs.find((j) => j.jobName === '100_30_-10_10_00')!, jobs.find((j) => j.jobName === '100_40_-10_10_00')!];
    for (const j of jobs) expect(existsSync(join(workA, '.quarantine', 'moved_model', j.jobName, 'quarantine.json'))).toBe(true);
    expect(s.runs().length).toBe(runsBefore + 2);
    // runner A goes away; the second point's outputs count as kept on another machine (its recorded host)
    await a.kill();
    s.runners.splice(s.runners.indexOf(a), 1);
    await s.sql(`UPDATE job_steps SET detail = JSON_SET(detail, '$.host', 'other-host.example') WHERE job_id = ? AND step = 'outputs-quarantined'`, [elsewhere.jobId]);
    const b = await startRunner('runner-b', workB);
    chmodSync(model, 0o755);
    await s.client.request('plannerRetry', { v: 1, selector: { gridId: sub.gridId } });
    expect((await s.waitDone(sub.gridId, 90_000)).counts).toMatchObject({ finished: 2, failed: 0 });
    // the first point: stored by runner B from runner A's quarantine, PDR not run again; the second ran again
    const runs = s.runs().slice(runsBefore).map((r) => r.jobName);
    expect(runs.sort()).toEqual(['100_30_-10_10_00', '100_40_-10_10_00', '100_40_-10_10_00']);
    const steps = async (jobId: number) => (await s.client.request('jobGet', { v: 1, jobId })).attempts.at(-1)!.steps;
    const restored = (await steps(here.jobId)).find((x) => x.step === 'outputs-restored');
    expect(restored?.detail).toMatchObject({ from: join(workA, '.quarantine', 'moved_model', here.jobName) });
    expect((await steps(elsewhere.jobId)).map((x) => x.step)).toContain('pdr-started');
    expect(existsSync(join(workA, '.quarantine', 'moved_model', here.jobName))).toBe(false);
    expect(b.output()).toMatch(/outputs kept by an earlier attempt in \S+100_40_-10_10_00 on host other-host\.example cannot be reached from this runner .*PDR runs again/);
    for (const j of await s.jobs(sub.gridId)) {
      const hdf = (j.files ?? []).find((f) => f.role === 'hdf4')!;
      expect(createHash('sha256').update(readFileSync(join(model, 'pdrgrid', `pdr${j.jobName}.hdf`))).digest('hex')).toBe(hdf.sha256);
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
