/**
 * pointsUpsert's literal SQL stores exactly the domain's rows: every column of every stored
 * kosmatau_parameters row equals buildParameterRow's value and parameter_hash equals parameterHash,
 * also for a chemistry string with a quote and a `?` (inside a literal the `?` must reach MariaDB as a
 * character: nothing on the way may substitute it) and for non-default overrides of every column kind.
 */
import { buildParameterRow, KOSMATAU_PARAMETER_NAMES, parameterHash } from '@pdr/domain';
import { all } from '@pdr/persistence';
import { gridRequest, Harness, useHarness } from '../state/helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

it('stored rows and hashes equal the domain library’s, column by column', async () => {
  const physics = { alpha: 1.7, rcore: 0.15, chemistry: "H+  H2 CO? C'+ 13CO", nonDefault: { ihdfout: 4, tgasc: 55.5, fuvstring: 'Draine' } };
  const pts: [string, string, string, string][] = [];
  for (const metal of ['100', '50']) for (const dens of ['30', '45.5', '-10']) for (const mass of ['-10', '0', '25']) for (const chi of ['0', '10', '60']) pts.push([metal, dens, mass, chi]);
  const { gridId } = await h.client.request('gridUpsert', gridRequest('stored_rows', { physics, pointCount: pts.length }));
  const reply = await h.call('pointsUpsert', { v: 1, gridId, points: pts });
  expect(reply.jobs).toHaveLength(pts.length);

  const stored = await all<Record<string, unknown>>(
    h.em(),
    `SELECT p.*, j.model_job_name AS job_name, j.output_hdf4_file AS hdf, j.status AS job_status, j.grid_id AS job_grid
     FROM kosmatau_parameters p JOIN pdr_model_jobs j ON j.kosmatau_parameters_id = p.id`,
  );
  expect(stored).toHaveLength(pts.length);
  const byJob = new Map(stored.map((r) => [r.job_name, r]));
  for (const [metal, dens, mass, chi] of pts) {
    const expected = buildParameterRow({ point: { metal, dens, mass, chi }, ...physics });
    const row = byJob.get(`${metal}_${dens}_${mass}_${chi}_00`)!;
    expect(row).toBeDefined();
    expect(row.parameter_hash).toBe(parameterHash(expected));
    for (const c of KOSMATAU_PARAMETER_NAMES) expect([c, row[c]]).toEqual([c, expected[c]]);
    expect(row).toMatchObject({ hdf: `pdr${metal}_${dens}_${mass}_${chi}_00.hdf`, job_status: 'pending', job_grid: gridId });
  }
  expect(byJob.values().next().value!.species).toBe("H+  H2 CO? C'+ 13CO");
});
