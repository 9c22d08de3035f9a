import { GridRequest } from '@pdr/contracts';

export type GridRequestOverrides = Omit<Partial<GridRequest>, 'axes' | 'run'> & {
  axes?: Partial<GridRequest['axes']>;
  run?: Partial<GridRequest['run']>;
};

/**
 * A grid request on a mock KOSMA-tau base dir (3 densities × 2 FUV fields, mock executables, local
 * storage); tests override what they need.
 */
export function mockGridRequest(baseDir: string, storageDir: string, over: GridRequestOverrides = {}): GridRequest {
  const { axes, run, ...rest } = over;
  return {
    modelName: 'test_model',
    description: null,
    axes: { metal: ['100'], dens: ['30', '40', '50'], mass: ['-10'], chi: ['10', '20'], ...axes },
    mode: 'grid',
    random: null,
    user: { username: 'Test User', email: 'test@example.org' },
    chemOrigin: 'mock',
    physics: { alpha: 1.5, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} },
    onionSpecies: ['CO', 'C+'],
    run: {
      baseDir,
      pdrFileName: 'mockpdr',
      onionFileName: 'mockonion',
      chemDatabase: 'chem_rates_mock.dat',
      pdrinpTemplateFile: 'PDRNEW.INP.template',
      jsonTemplateFile: 'pdr_config.json.template',
      jsonTemplateOverride: null,
      storage: { type: 'local', baseDir: storageDir },
      forceOnion: false,
      keepTmp: false,
      timeouts: { pdrMs: 60_000, onionMs: 60_000 },
      ...run,
    },
    ...rest,
  };
}
