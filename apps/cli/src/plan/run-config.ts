import { LoadConfigOptions, LoadedConfig, loadConfig } from '@pdr/config';

/**
 * The configuration of `pdr run`. Its `database` section and the PDR_DB_* variables belong to the state
 * service: a run never opens a database, so it never reads them and never fails on them (a typo there is
 * the state service's to report).
 */
export function loadRunConfig(opts: LoadConfigOptions & { env: NodeJS.ProcessEnv; cwd: string }): LoadedConfig {
  return loadConfig({ ...opts, ignoreSections: ['database'] });
}
