import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { locateTemplates, readTemplates, TemplateNotFoundError } from './locate';

describe('locateTemplates', () => {
  let base: string;
  let cwd: string;
  const write = (p: string, text = 'x') => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  };
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-domain-tpl-'));
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-domain-cwd-'));
  });
  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('search order templates/, pdrinpdata/templates/, base dir', async () => {
    write(path.join(base, 'PDRNEW.INP.template'));
    write(path.join(base, 'pdrinpdata/templates/PDRNEW.INP.template'));
    write(path.join(base, 'pdr_config.json.template'));
    let r = await locateTemplates(base);
    expect(r.pdrnewTemplate).toBe(path.join(base, 'pdrinpdata/templates/PDRNEW.INP.template'));
    expect(r.jsonTemplate).toBe(path.join(base, 'pdr_config.json.template'));
    expect(r.warnings).toEqual([]);
    write(path.join(base, 'templates/PDRNEW.INP.template'), 'first');
    r = await locateTemplates(base);
    expect(r.pdrnewTemplate).toBe(path.join(base, 'templates/PDRNEW.INP.template'));
    expect((await readTemplates(r)).pdrnewTemplate).toBe('first');
  });

  it('configured names and a missing template → warning', async () => {
    write(path.join(base, 'templates/my.inp'));
    const r = await locateTemplates(base, { pdrinpTemplateFile: 'my.inp', jsonTemplateFile: 'my.json' });
    expect(r.pdrnewTemplate).toBe(path.join(base, 'templates/my.inp'));
    expect(r.jsonTemplate).toBeNull();
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/"my.json" not found/);
    const j = await locateTemplates(base, { pdrinpTemplateFile: 'absent', jsonTemplateFile: 'my.inp' });
    expect(j.warnings[0]).toMatch(/PDRNEW template "absent" not found/);
  });

  it('--json-template resolves against the caller cwd, whatever json_template_file is called', async () => {
    write(path.join(base, 'templates/PDRNEW.INP.template'));
    write(path.join(base, 'templates/pdr_config.json.template'), 'original');
    write(path.join(cwd, 'mine.json'), 'mine');
    const r = await locateTemplates(base, { jsonTemplateOverride: 'mine.json', jsonTemplateFile: 'other.json', cwd });
    expect(r.jsonTemplate).toBe(path.join(cwd, 'mine.json'));
    expect(fs.readFileSync(path.join(base, 'templates/pdr_config.json.template'), 'utf8')).toBe('original');
    await expect(locateTemplates(base, { jsonTemplateOverride: 'nope.json', cwd })).rejects.toThrow(/--json-template not found: .*nope.json/);
  });

  it('relative base dir resolves against cwd; both missing → error', async () => {
    write(path.join(cwd, 'pdr/templates/PDRNEW.INP.template'));
    expect((await locateTemplates('pdr', { cwd })).pdrnewTemplate).toBe(path.join(cwd, 'pdr/templates/PDRNEW.INP.template'));
    await expect(locateTemplates(base)).rejects.toBeInstanceOf(TemplateNotFoundError);
    await expect(locateTemplates(base)).rejects.toThrow(/neither "PDRNEW.INP.template" nor "pdr_config.json.template"/);
  });

  it('a directory with the template name is not a template', async () => {
    fs.mkdirSync(path.join(base, 'templates/PDRNEW.INP.template'), { recursive: true });
    write(path.join(base, 'PDRNEW.INP.template'));
    write(path.join(base, 'pdr_config.json.template'));
    expect((await locateTemplates(base)).pdrnewTemplate).toBe(path.join(base, 'PDRNEW.INP.template'));
  });
});
