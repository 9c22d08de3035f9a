import * as fs from 'fs';
import * as path from 'path';
import {
  DEFAULT_CHEMISTRY,
  DEFAULT_MODEL_PARAMETERS,
  KOSMATAU_PARAMETER_DEFAULTS,
  KOSMATAU_SPECIES_COLUMN_DEFAULT,
  PDR_RUN_NON_DEFAULT_PARAMETERS,
} from './columns';

const compat = path.resolve(__dirname, '../../../../../shared/compat');
const vectorsFile = path.join(compat, 'vectors.jsonl');
const haveVectors = fs.existsSync(vectorsFile);
if (!haveVectors) console.warn(`SKIPPED: compat vectors not found at ${vectorsFile}`);
const withVectors = haveVectors ? describe : describe.skip;

describe('kosmatau_parameters columns', () => {
  it('has 106 physics columns: 60 float, 44 int, fuvstring string, species text', () => {
    const count = (k: string) => KOSMATAU_PARAMETER_DEFAULTS.filter((c) => c.kind === k).length;
    expect(KOSMATAU_PARAMETER_DEFAULTS).toHaveLength(106);
    expect([count('float'), count('int'), count('string'), count('text')]).toEqual([60, 44, 1, 1]);
    expect(new Set(KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name)).size).toBe(106);
  });

  it('int defaults are integers, float defaults numbers or null', () => {
    for (const c of KOSMATAU_PARAMETER_DEFAULTS) {
      if (c.kind === 'int') expect(Number.isInteger(c.default)).toBe(true);
      if (c.kind === 'float') expect(c.default === null || typeof c.default === 'number').toBe(true);
    }
  });

  // SPEC §3.5 says 41; pdr_run's models.py string actually holds 40 names.
  it('species column default has 40 species, chemistry 105', () => {
    expect(KOSMATAU_SPECIES_COLUMN_DEFAULT.split(/\s+/).filter(Boolean)).toHaveLength(40);
    expect(DEFAULT_CHEMISTRY.split(/\s+/).filter(Boolean)).toHaveLength(105);
    expect(DEFAULT_MODEL_PARAMETERS.chemistry.startsWith('HE+ HE H+ H2+ H3+ C CH C+')).toBe(true);
  });

  it('has the 26 pdr_run built-in non-default parameters, all of them real columns', () => {
    const names = new Set(KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name));
    expect(Object.keys(PDR_RUN_NON_DEFAULT_PARAMETERS)).toHaveLength(26);
    for (const k of Object.keys(PDR_RUN_NON_DEFAULT_PARAMETERS)) expect(names.has(k)).toBe(true);
    expect(PDR_RUN_NON_DEFAULT_PARAMETERS.cosray).toBe(1e-16);
  });

  withVectors('against pdr_run rows (compat/vectors.jsonl)', () => {
    const rows = haveVectors
      ? fs
          .readFileSync(vectorsFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l))
      : [];
    const defaultsRow = rows.find((r) => r.case === 'defaults-one-point' && r.parameters).parameters;

    it('column order equals pdr_run row key order (minus comments)', () => {
      expect(KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name)).toEqual(
        Object.keys(defaultsRow).filter((k) => k !== 'comments'),
      );
    });

    it('defaults equal the default-case row except the per-point columns', () => {
      for (const c of KOSMATAU_PARAMETER_DEFAULTS) {
        if (c.default === null) continue;
        if (c.name === 'species') {
          expect(defaultsRow.species).toBe(DEFAULT_CHEMISTRY);
          continue;
        }
        expect([c.name, defaultsRow[c.name]]).toEqual([c.name, c.default]);
      }
    });
  });
});
