import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_CHEMISTRY } from '../parameters/columns';
import { describeWithCompat, loadVectors, TEMPLATES_DIR } from '../../../../test/support/compat';
import { renderInputsForPoint } from './inputs';

describe('renderInputsForPoint', () => {
  const point = { metal: '100', dens: '30', mass: '-10', chi: '10' };

  it('renders from template text and reports job name, row and hash', () => {
    const r = renderInputsForPoint({ point, pdrnewTemplate: 'n=KT_VARxnsur_', jsonTemplate: '{"db": "KT_VARCHEM_DATABASE_FILE_"}', chemDatabaseFile: 'rates.dat' });
    expect(r.jobName).toBe('100_30_-10_10_00');
    expect(r.row.species).toBe(DEFAULT_CHEMISTRY);
    expect(r.parameterHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.pdrnewInp).toBe('n=1.000e+03');
    expect(r.pdrConfigJson).toBe('{"db": "rates.dat"}');
  });

  it('a missing template gives null; none at all is an error; bad inputs are errors', () => {
    expect(renderInputsForPoint({ point, pdrnewTemplate: 'x' }).pdrConfigJson).toBeNull();
    expect(() => renderInputsForPoint({ point })).toThrow(/template/);
    expect(() => renderInputsForPoint({ point: { ...point, chi: 'ten' }, pdrnewTemplate: 'x' })).toThrow(/chi/);
    expect(() => renderInputsForPoint({ point, pdrnewTemplate: 'x', nonDefault: { cosrai: 1 } })).toThrow(/cosray/);
    expect(() => renderInputsForPoint({ point, jsonTemplate: 'x', chemDatabaseFile: 'a"b' })).toThrow(/chem_database/);
  });
});

describeWithCompat('renderInputsForPoint against pdr_run (non-default-physics case)', () => {
  it('byte-identical to pdr_run', () => {
    const { jobs, cases } = loadVectors();
    const c = cases.get('non-default-physics')!;
    const job = jobs.find((j) => j.case === 'non-default-physics')!;
    const mp = c.model_params as { metal: string[]; dens: string[]; mass: string[]; chi: string[]; alpha: number; rcore: number };
    const r = renderInputsForPoint({
      point: { metal: mp.metal[0], dens: mp.dens[0], mass: mp.mass[0], chi: mp.chi[0] },
      pdrnewTemplate: fs.readFileSync(path.join(TEMPLATES_DIR, 'PDRNEW.INP.template'), 'utf8'),
      jsonTemplate: fs.readFileSync(path.join(TEMPLATES_DIR, 'pdr_config.json.template'), 'utf8'),
      alpha: mp.alpha,
      rcore: mp.rcore,
      nonDefault: c.non_default_parameters,
    });
    expect(r.jobName).toBe(job.job_name);
    expect(r.pdrnewInp).toBe(job.pdrnew_inp);
    expect(r.pdrConfigJson).toBe(job.pdr_config_json);
  });
});
