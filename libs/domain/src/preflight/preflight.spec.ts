import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkTemplates, preflightBaseDir, preflightLine, type PreflightSubject } from './preflight';

const MOCK = path.resolve(__dirname, '../../../../deploy/kosmatau-mock');

describe('preflight of a base dir', () => {
  let dir: string;
  let base: string;
  const subject = (over: Partial<PreflightSubject> = {}): PreflightSubject => ({
    baseDir: base,
    pdrFileName: 'mockpdr',
    onionFileName: 'mockonion',
    chemDatabase: 'chem_rates_mock.dat',
    pdrinpTemplateFile: 'PDRNEW.INP.template',
    jsonTemplateFile: 'pdr_config.json.template',
    species: ['CO', 'C+'],
    ...over,
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-preflight-'));
    base = path.join(dir, 'kt');
    fs.cpSync(MOCK, base, { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the mock base dir passes', async () => {
    expect(await preflightBaseDir(subject())).toEqual({ problems: [], warnings: [] });
  });

  it('a missing base dir is the only problem named (the others would repeat it)', async () => {
    const r = await preflightBaseDir(subject({ baseDir: path.join(dir, 'nope') }));
    expect(r.problems.map(preflightLine)).toEqual([`pdr.base_dir ${path.join(dir, 'nope')}: directory not found`]);
  });

  it('what a run does not need is not checked (force-onion after stored PDR outputs)', async () => {
    fs.rmSync(path.join(base, 'mockpdr'));
    fs.rmSync(path.join(base, 'pdrinpdata', 'chem_rates_mock.dat'));
    expect((await preflightBaseDir(subject(), { pdr: false, onion: true })).problems).toEqual([]);
    expect((await preflightBaseDir(subject(), { pdr: true, onion: true })).problems.map((p) => p.key)).toEqual(['pdr.pdr_file_name', 'pdr.chem_database']);
  });

  it('JSON-only: a missing PDRNEW template is a warning, a missing JSON template an error', async () => {
    fs.rmSync(path.join(base, 'templates', 'PDRNEW.INP.template'));
    expect((await checkTemplates(subject())).problems.map((p) => p.key)).toEqual(['pdr.pdrinp_template_file']);
    const jsonOnly = await checkTemplates(subject({ jsonOnly: true }));
    expect(jsonOnly.problems).toEqual([]);
    expect(jsonOnly.warnings).toEqual([expect.stringMatching(/^pdr\.pdrinp_template_file PDRNEW\.INP\.template: PDRNEW template not found .*PDRNEW\.INP will not be written/)]);
    fs.rmSync(path.join(base, 'templates', 'pdr_config.json.template'));
    expect((await checkTemplates(subject({ jsonOnly: true }))).problems.map((p) => p.key)).toEqual(['pdr.json_template_file']);
  });

  it('a missing JSON template is a warning unless JSON-only; a --json-template that is not a file an error', async () => {
    fs.rmSync(path.join(base, 'templates', 'pdr_config.json.template'));
    const r = await checkTemplates(subject());
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/^pdr\.json_template_file pdr_config\.json\.template: JSON template not found .*pdr_config\.json will not be written$/)]);
    const over = await checkTemplates(subject({ jsonTemplateOverride: dir }));
    expect(over.problems.map(preflightLine)).toEqual([`--json-template ${dir}: JSON template is not a readable file`]);
  });
});
