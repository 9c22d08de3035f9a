/**
 * jobFinish records each grid's executables once, also when state has them cached from earlier jobs:
 * every job carries its pdr executable, each grid its grid_executables rows; a changed executable is a
 * new kosmatau_executables row.
 */
import { all } from '@pdr/persistence';
import { gridRequest, Harness, points, sha, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

const exe = (role: 'pdr' | 'onion', digest: string) => ({
  role,
  fileName: `mock${role}`,
  fullPath: `/base/mock${role}`,
  sha256: sha(digest),
  revision: null,
  compilationDate: null,
  reasons: [],
});

async function runOne(gridId: number, jobId: number, executables: ReturnType<typeof exe>[]) {
  await h.call('markQueued', { v: 1, jobIds: [jobId] });
  const claim = await h.call('jobClaim', { v: 1, jobId, generation: 0, delivery: 1, runnerId: 'r' });
  expect(claim.granted).toBe(true);
  const reply = await h.call('jobFinish', {
    v: 1,
    jobId,
    attempt: 1,
    runnerId: 'r',
    status: 'finished',
    reason: null,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    executionMs: 1000,
    exitCodes: { pdr: 0, onion: {} },
    files: [],
    executables,
  });
  expect({ gridId, reply }).toEqual({ gridId, reply: { applied: true, status: 'finished' } });
}

it('two grids, three jobs each; the pdr executable changes for the last job', async () => {
  const grids: number[] = [];
  const jobs: number[][] = [];
  for (const name of ['A', 'B']) {
    const { gridId } = await h.call('gridUpsert', gridRequest('exes', { requestHash: sha(`grid ${name}`), pointCount: 3 }));
    grids.push(gridId);
    jobs.push((await h.call('pointsUpsert', { v: 1, gridId, points: points(3, name === 'A' ? '100' : '200') })).jobs.map((j) => j[0]));
  }
  const v1 = [exe('pdr', 'v1'), exe('onion', 'o1')];
  for (const [g, gridId] of grids.entries()) for (const jobId of jobs[g].slice(0, 2)) await runOne(gridId, jobId, v1);
  const v2 = [exe('pdr', 'v2'), exe('onion', 'o1')];
  await runOne(grids[1], jobs[1][2], v2);

  const exes = await all<{ id: number; sha256_sum: string }>(h.em(), 'SELECT id, sha256_sum FROM kosmatau_executables ORDER BY id');
  expect(exes.map((e) => e.sha256_sum)).toEqual([sha('v1'), sha('o1'), sha('v2')]);
  const [pdr1, onion1, pdr2] = exes.map((e) => e.id);
  const rows = await all<{ grid_id: number; executable_id: number; role: string }>(h.em(), 'SELECT grid_id, executable_id, role FROM grid_executables ORDER BY grid_id, executable_id');
  expect(rows.map((r) => [r.grid_id, r.executable_id, r.role])).toEqual([
    [grids[0], pdr1, 'pdr'],
    [grids[0], onion1, 'onion'],
    [grids[1], pdr1, 'pdr'],
    [grids[1], onion1, 'onion'],
    [grids[1], pdr2, 'pdr'],
  ]);
  const onJobs = await all<{ id: number; kosmatau_executable_id: number | null; user_id: number | null; chemical_database_id: number | null }>(
    h.em(),
    'SELECT id, kosmatau_executable_id, user_id, chemical_database_id FROM pdr_model_jobs WHERE status = ? ORDER BY id',
    ['finished'],
  );
  expect(onJobs.map((j) => j.kosmatau_executable_id)).toEqual([pdr1, pdr1, pdr1, pdr1, pdr2]);
  expect(onJobs.every((j) => j.user_id !== null && j.chemical_database_id !== null)).toBe(true);
});
