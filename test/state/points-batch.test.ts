/** 10k points in one request: built in memory, inserted in chunks, re-sending inserts nothing. */
import { MAX_POINTS_PER_BATCH } from '@pdr/contracts';
import { one } from '@pdr/persistence';
import { gridRequest, Harness, useHarness } from './helpers';

jest.setTimeout(300_000);

let h: Harness;
useHarness((started) => (h = started));

async function count(table: string): Promise<number> {
  return Number((await one<{ n: number }>(h.em(), `SELECT COUNT(*) AS n FROM ${table}`))!.n);
}

it(`${MAX_POINTS_PER_BATCH} points in one pointsUpsert; the same request again inserts nothing`, async () => {
  const pts: [string, string, string, string][] = [];
  for (let m = 0; m < 10; m++) for (let d = 0; d < 10; d++) for (let s = 0; s < 10; s++) for (let c = 0; c < 10; c++) pts.push([`${50 + m}`, `${20 + d}`, `${-10 + s}`, `${c}`]);
  expect(pts).toHaveLength(MAX_POINTS_PER_BATCH);
  const { gridId } = await h.client.request('gridUpsert', gridRequest('big', { pointCount: pts.length }));

  const first = await h.call('pointsUpsert', { v: 1, gridId, points: pts });
  expect(first.jobs).toHaveLength(pts.length);
  expect(first.jobs.every(([, status, generation, created]) => status === 'pending' && generation === 0 && created)).toBe(true);
  expect(new Set(first.jobs.map((j) => j[0])).size).toBe(pts.length);
  const counts = { params: await count('kosmatau_parameters'), jobs: await count('pdr_model_jobs'), members: await count('grid_points') };
  expect(counts).toEqual({ params: pts.length, jobs: pts.length, members: pts.length });

  const second = await h.call('pointsUpsert', { v: 1, gridId, points: pts });
  expect(second.jobs).toEqual(first.jobs.map(([id, s, g]) => [id, s, g, false]));
  expect({ params: await count('kosmatau_parameters'), jobs: await count('pdr_model_jobs'), members: await count('grid_points') }).toEqual(counts);

  // the reply is in request order: the job name of each reply entry is its point's
  const sample = [0, 4321, 9999];
  for (const i of sample) {
    const row = await one<{ name: string }>(h.em(), 'SELECT model_job_name AS name FROM pdr_model_jobs WHERE id = ?', [first.jobs[i][0]]);
    expect(row!.name).toBe(`${pts[i].join('_')}_00`);
  }
  const status = await h.client.request('gridStatus', { v: 1, selector: { gridId } });
  expect(status.grid.total).toBe(pts.length);
  expect(status.grid.counts.pending).toBe(pts.length);
});
