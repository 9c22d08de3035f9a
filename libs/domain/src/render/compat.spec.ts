/**
 * Byte-for-byte compatibility with pdr_run: for every job line of compat/vectors.jsonl, the grid point,
 * the parameter row and both rendered input files must equal what pdr_run produced.
 */
import * as fs from 'fs';
import * as path from 'path';
import { expandGrid, GridAxes } from '../grid/grid';
import { buildParameterRow } from '../parameters/row';
import { KOSMATAU_PARAMETER_NAMES } from '../parameters/columns';
import { renderPdrConfigJson, renderPdrnew } from './render';
import { describeWithCompat, loadVectors, TEMPLATES_DIR } from '../../../../test/support/compat';

describeWithCompat('pdr_run compat vectors', () => {
  const { jobs, cases } = loadVectors();
  const pdrnewTemplate = fs.readFileSync(path.join(TEMPLATES_DIR, 'PDRNEW.INP.template'), 'utf8');
  const jsonTemplate = fs.readFileSync(path.join(TEMPLATES_DIR, 'pdr_config.json.template'), 'utf8');

  function inputsOf(caseName: string) {
    const c = cases.get(caseName);
    if (!c) throw new Error(`no summary line for case ${caseName}`);
    const mp = c.model_params as Record<string, unknown>;
    return {
      axes: { metal: mp.metal, dens: mp.dens, mass: mp.mass, chi: mp.chi } as GridAxes,
      alpha: mp.alpha as number | undefined,
      rcore: mp.rcore as number | undefined,
      chemistry: mp.chemistry as string | undefined,
      nonDefault: c.non_default_parameters,
    };
  }

  it('has job lines for all three cases', () => {
    expect(jobs.length).toBeGreaterThanOrEqual(56);
    expect(new Set(jobs.map((j) => j.case))).toEqual(new Set(['defaults-one-point', 'small-grid', 'non-default-physics']));
    for (const c of cases.values()) expect(c.cli).toEqual([]);
  });

  it('grid expansion reproduces the job names in pdr_run order', () => {
    for (const caseName of cases.keys()) {
      const expected = jobs.filter((j) => j.case === caseName).map((j) => j.job_name);
      expect(expandGrid(inputsOf(caseName).axes).map((p) => p.jobName)).toEqual(expected);
    }
  });

  it('every pdr_run row has exactly the 106 physics columns plus comments = null', () => {
    for (const j of jobs) {
      expect(Object.keys(j.parameters)).toEqual([...KOSMATAU_PARAMETER_NAMES, 'comments']);
      expect(j.parameters.comments).toBeNull();
    }
  });

  describe.each(['defaults-one-point', 'small-grid', 'non-default-physics'])('case %s', (caseName) => {
    const caseJobs = jobs.filter((j) => j.case === caseName);
    it.each(caseJobs.map((j) => [j.job_name, j] as const))('%s: row equals pdr_run row bit for bit', (_name, job) => {
      const input = inputsOf(caseName);
      const point = expandGrid(input.axes).find((p) => p.jobName === job.job_name)!;
      const row = buildParameterRow({ point, alpha: input.alpha, rcore: input.rcore, chemistry: input.chemistry, nonDefault: input.nonDefault });
      const { comments: _c, ...expected } = job.parameters;
      expect(row).toEqual(expected);
      for (const k of Object.keys(expected)) if (typeof expected[k] === 'number') expect(Object.is(row[k], expected[k])).toBe(true);
    });
    it.each(caseJobs.map((j) => [j.job_name, j] as const))('%s: PDRNEW.INP and pdr_config.json byte-identical', (_name, job) => {
      const input = inputsOf(caseName);
      const point = expandGrid(input.axes).find((p) => p.jobName === job.job_name)!;
      const row = buildParameterRow({ point, alpha: input.alpha, rcore: input.rcore, chemistry: input.chemistry, nonDefault: input.nonDefault });
      expect(renderPdrnew(pdrnewTemplate, row)).toBe(job.pdrnew_inp);
      expect(renderPdrConfigJson(jsonTemplate, row, { chemDatabaseFile: 'chem_rates_2022-10-21-ERS.dat' })).toBe(job.pdr_config_json);
      // rendering pdr_run's own row (with comments) gives the same bytes
      expect(renderPdrnew(pdrnewTemplate, job.parameters)).toBe(job.pdrnew_inp);
    });
  });
});
