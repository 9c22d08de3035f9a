/** queryJobs and getJob on the real MariaDB (a database of its own): filters, keyset paging, by name. */
import { JobFile, PdrModelJob } from '@pdr/persistence';
import { useUseCaseDb } from '../../../../test/support/use-case-db';
import { loadGrid } from '../grids/load-grid';
import { getJob } from './get-job';
import { queryJobs } from './query-jobs';

const t = useUseCaseDb();

const base = { v: 1 as const, afterId: 0, limit: 100, withParameters: false, withFiles: false };

describe('queryJobs', () => {
  it('pages a grid by job id, filtered by status and model name, with parameters and files when asked', async () => {
    const { gridId, jobIds } = await t.grid(7);
    await t.grid(3); // another grid, not in the results
    await t.em().nativeUpdate(PdrModelJob, { id: { $in: jobIds.slice(0, 2) } }, { status: 'failed' });
    await t.em().insert(JobFile, { job_id: jobIds[0], attempt: 1, role: 'hdf', file_name: 'pdr.hdf', rel_path: 'a/pdr.hdf', full_path: '/s/a/pdr.hdf', file_size: 12, modification_time: new Date('2026-01-02T03:04:05.678Z'), sha256_sum: 'a'.repeat(64) });
    const p1 = await queryJobs(t.em(), { ...base, gridId, limit: 4 });
    expect(p1.jobs.map((j) => j.jobId)).toEqual(jobIds.slice(0, 4));
    expect(p1.nextAfterId).toBe(jobIds[3]);
    const p2 = await queryJobs(t.em(), { ...base, gridId, limit: 4, afterId: p1.nextAfterId! });
    expect(p2.jobs.map((j) => j.jobId)).toEqual(jobIds.slice(4));
    expect(p2.nextAfterId).toBeNull();
    const name = (await loadGrid(t.em(), gridId))!.modelName;
    const failed = await queryJobs(t.em(), { ...base, modelName: name, status: ['failed'], withParameters: true, withFiles: true });
    expect(failed.jobs.map((j) => [j.jobId, j.status, j.modelName, j.gridId])).toEqual(jobIds.slice(0, 2).map((id) => [id, 'failed', name, gridId]));
    expect(failed.jobs[0].files).toEqual([
      { role: 'hdf', fileName: 'pdr.hdf', relPath: 'a/pdr.hdf', fullPath: '/s/a/pdr.hdf', size: 12, mtime: '2026-01-02T03:04:05.678Z', sha256: 'a'.repeat(64) },
    ]);
    expect(failed.jobs[1].files).toEqual([]);
    expect(failed.jobs[0].parameters).toMatchObject({ rcore: 0.2, Niter: 60 });
    expect((await queryJobs(t.em(), { ...base, gridId, status: [] })).jobs).toEqual([]);
  });
});

describe('getJob', () => {
  it('by id, and by name (the newest, with how many share the name); unknown ones are NOT_FOUND', async () => {
    const { gridId, jobIds } = await t.grid(2);
    const byId = await getJob(t.em(), { v: 1, jobId: jobIds[1] });
    expect(byId.job).toMatchObject({ jobId: jobIds[1], gridId, status: 'pending' });
    expect(byId.sameName).toBeUndefined();
    expect(byId.attempts).toEqual([]);
    expect(byId.grid).toMatchObject({ onionSpecies: ['CO'] });
    const jobName = byId.job.jobName;
    const byName = await getJob(t.em(), { v: 1, jobName });
    expect(byName.job.jobId).toBe(jobIds[1]);
    expect(byName.sameName).toBe(1);
    await expect(getJob(t.em(), { v: 1, jobId: 987_654 })).rejects.toThrow(/job 987654 does not exist/);
    await expect(getJob(t.em(), { v: 1, jobName, modelName: 'nope' })).rejects.toThrow(/no job named .* in model "nope"/);
  });
});
