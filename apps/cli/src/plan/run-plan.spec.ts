import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configFlagsOf, planRun } from './run-plan';

const MOCK = path.resolve(__dirname, '../../../../deploy/kosmatau-mock');

describe('planRun', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-plan-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { PDR_BASE_DIR: MOCK };

  it('maps the run flags onto configuration keys', () => {
    expect(configFlagsOf({ modelName: 'm', dens: ['30'], species: ['CO'], random: 5, jsonTemplate: 't.json' })).toEqual({
      pdr: { model_name: 'm', json_template: 't.json' },
      model_parameters: { dens: ['30'], species: ['CO'], create_random_models: true, random_model_num: 5 },
    });
    expect(configFlagsOf({ random: true })).toEqual({ model_parameters: { create_random_models: true } });
  });

  it('builds an absolute, contract-valid request; storage defaults under the cwd', () => {
    const p = planRun({ dens: ['30', '40'], keepTmp: true }, { cwd: dir, env, now: new Date(2025, 0, 2, 3, 4, 5) });
    expect(p.request.modelName).toBe('pdr_model_20250102_030405');
    expect(p.request.run.baseDir).toBe(MOCK);
    expect(p.request.run.storage).toEqual({ type: 'local', baseDir: path.join(dir, 'pdr_storage') });
    expect(p.request.run.keepTmp).toBe(true);
    expect(p.total).toBe(2);
    expect(p.storagePath).toBe(path.join(dir, 'pdr_storage', 'pdr_model_20250102_030405'));
  });

  it('single mode plans the first value of each axis', () => {
    const p = planRun({ dens: ['30', '40'], chi: ['10', '20'], single: true }, { cwd: dir, env });
    expect(p.total).toBe(1);
    expect(p.firstPoints.map((x) => x.jobName)).toEqual(['100_30_-10_10_00']);
    expect(p.request.mode).toBe('single');
  });

  it('duplicate axis values are planned once, with a warning', () => {
    const p = planRun({ dens: ['30', '30.0', '40'] }, { cwd: dir, env });
    expect(p.total).toBe(2);
    expect(p.warnings.join('\n')).toMatch(/"30\.0" is the same value as "30"/);
  });

  it('random mode carries count and seed in the request', () => {
    const p = planRun({ dens: ['20', '50'], chi: ['00', '30'], random: 4, seed: 7 }, { cwd: dir, env });
    expect(p.request.random).toEqual({ count: 4, seed: 7 });
    expect(p.seed).toBe(7);
    expect(p.total).toBe(4);
  });

  it('accepts exponent axis values as pdr_run did, and rejects expressions naming the flag', () => {
    expect(planRun({ dens: ['1e1'] }, { cwd: dir, env }).total).toBe(1);
    expect(() => planRun({ dens: ['1e3*2'] }, { cwd: dir, env })).toThrow(/--dens "1e3\*2"/);
  });

  it('rejects a grid above --max-points', () => {
    expect(() => planRun({ dens: ['10', '20', '30'], maxPoints: 2 }, { cwd: dir, env })).toThrow(/3 points .*--max-points 2/);
  });

  it('rejects an unknown physics column in the config before anything is contacted', () => {
    const cfg = path.join(dir, 'bad.yaml');
    fs.writeFileSync(cfg, 'non_default_parameters:\n  cosrai: 1.0e-16\n');
    expect(() => planRun({ config: cfg }, { cwd: dir, env })).toThrow(/cosrai.*cosray/);
  });

  it('a missing --json-template is an error naming it', () => {
    expect(() => planRun({ jsonTemplate: 'none.json' }, { cwd: dir, env })).toThrow(new RegExp(`${dir}/none.json`));
  });
});
