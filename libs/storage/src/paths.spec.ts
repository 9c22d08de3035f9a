import * as fs from 'node:fs';
import * as path from 'node:path';
import { StoragePathError, assertSafeName, storagePaths } from './index';

describe('storagePaths', () => {
  const p = storagePaths('mymodel', '100_30_-10_10_00');

  it('gives pdr_run names under <model>/pdrgrid and <model>/oniongrid', () => {
    expect(p.hdf4).toBe('mymodel/pdrgrid/pdr100_30_-10_10_00.hdf');
    expect(p.hdf5Struct).toBe('mymodel/pdrgrid/pdrstruct100_30_-10_10_00.hdf5');
    expect(p.hdf5Chem).toBe('mymodel/pdrgrid/pdrchem100_30_-10_10_00.hdf5');
    expect(p.chemchk).toBe('mymodel/pdrgrid/chemchk100_30_-10_10_00.out');
    expect(p.textout).toBe('mymodel/pdrgrid/TEXTOUT100_30_-10_10_00');
    expect(p.mcdrt).toBe('mymodel/pdrgrid/MCDRT100_30_-10_10_00.tar.gz');
    expect(p.pdrnew).toBe('mymodel/pdrgrid/PDRNEW100_30_-10_10_00.INP');
    expect(p.json).toBe('mymodel/pdrgrid/pdr_config100_30_-10_10_00.json');
    expect(p.ctrlInd).toBe('mymodel/pdrgrid/CTRL_IND100_30_-10_10_00');
    expect(p.onionFile('jerg_CO.smli')).toBe('mymodel/oniongrid/ONION100_30_-10_10_00.jerg_CO.smli');
    expect(p.onionTextout('C+')).toBe('mymodel/oniongrid/TEXTOUT100_30_-10_10_00_C+');
    expect(p.onionFiles('CO')).toEqual([
      'mymodel/oniongrid/ONION100_30_-10_10_00.jerg_CO.smli',
      'mymodel/oniongrid/ONION100_30_-10_10_00.jerg_CO.srli',
      'mymodel/oniongrid/ONION100_30_-10_10_00.jtemp_CO.smli',
      'mymodel/oniongrid/ONION100_30_-10_10_00.jtemp_CO.smlc',
      'mymodel/oniongrid/ONION100_30_-10_10_00.linebt_CO.out',
      'mymodel/oniongrid/ONION100_30_-10_10_00.ONION3_CO.OUT',
      'mymodel/oniongrid/TEXTOUT100_30_-10_10_00_CO',
    ]);
  });

  const bad: Array<[string, RegExp]> = [
    ['../x', /contains "\/"/],
    ['a/b', /contains "\/"/],
    ['a\\b', /contains "\\"/],
    ['a..b', /contains "\.\."/],
    ['.hidden', /starts with "\."/],
    ['', /must not be empty/],
    ['a\0b', /NUL/],
    ['a\nb', /control character/],
    [' a', /whitespace/],
    ['x'.repeat(201), /longer than 200/],
  ];
  it.each(bad)('rejects model name %j with a clear error', (name, why) => {
    expect(() => storagePaths(name, '100_30_-10_10_00')).toThrow(StoragePathError);
    expect(() => storagePaths(name, '100_30_-10_10_00')).toThrow(why);
    expect(() => storagePaths(name, '100_30_-10_10_00')).toThrow(/model name/);
  });
  it.each(bad)('rejects job name %j', (name, why) => {
    expect(() => storagePaths('m', name)).toThrow(why);
    expect(() => storagePaths('m', name)).toThrow(/job name/);
  });
  it.each(bad)('rejects species %j', (name, why) => {
    expect(() => p.onionTextout(name)).toThrow(why);
    expect(() => p.onionFiles(name)).toThrow(/species/);
  });
  it('names the rejected value', () => {
    expect(() => assertSafeName('../etc', 'species')).toThrow('invalid storage path "../etc": species contains "/"');
  });
  it('accepts species with + and digits', () => {
    expect(assertSafeName('13C+', 'species')).toBe('13C+');
  });
});

// Names produced by pdr_run itself (compat vectors). Read in place; skip visibly if ../shared is absent.
const vectorsFile = path.resolve(__dirname, '../../../../shared/compat/vectors.jsonl');
const haveVectors = fs.existsSync(vectorsFile);
if (!haveVectors) console.warn(`compat vectors not found at ${vectorsFile}: storage-name compatibility test skipped`);
(haveVectors ? describe : describe.skip)('storagePaths against pdr_run stored_files (compat/vectors.jsonl)', () => {
  interface Line {
    case: string;
    job_name?: string;
    stored_files?: string[];
    model_params?: { species?: string[] };
  }
  const lines: Line[] = haveVectors
    ? fs.readFileSync(vectorsFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Line)
    : [];
  const summaries = lines.filter((l) => Array.isArray(l.stored_files));

  it('has summary lines to compare', () => {
    expect(summaries.length).toBeGreaterThan(0);
  });

  it.each(summaries.map((s) => [s.case, s] as const))('case %s: every stored file is a name we generate', (_c, summary) => {
    const stored = summary.stored_files as string[];
    const models = new Set(stored.map((f) => f.split('/')[0]));
    expect(models.size).toBe(1);
    const model = [...models][0];
    const jobs = lines.filter((l) => l.case === summary.case && l.job_name).map((l) => l.job_name as string);
    expect(jobs.length).toBeGreaterThan(0);
    const species = summary.model_params?.species ?? [];
    const ours = new Set<string>();
    const pdrNames = (job: string): string[] => {
      const sp = storagePaths(model, job);
      return [sp.hdf4, sp.hdf5Struct, sp.hdf5Chem, sp.chemchk, sp.textout, sp.mcdrt, sp.pdrnew, sp.json, sp.ctrlInd];
    };
    for (const job of jobs) {
      pdrNames(job).forEach((n) => ours.add(n));
      for (const s of species) storagePaths(model, job).onionFiles(s).forEach((n) => ours.add(n));
    }
    const unknown = stored.filter((f) => !ours.has(f));
    expect(unknown).toEqual([]);
    // every PDR output pdr_run stored is named exactly as ours, per job (chemchk is absent from the
    // vectors because pdr_run's mock never writes it)
    const storedSet = new Set(stored);
    for (const job of jobs) {
      const missing = pdrNames(job).filter((n) => !storedSet.has(n) && !n.includes('/chemchk'));
      expect(missing).toEqual([]);
      for (const s of species) expect(storedSet.has(storagePaths(model, job).onionTextout(s))).toBe(true);
    }
  });
});
