import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { ConfigError, LoadConfigOptions, LoadedConfig, loadConfig, resolvePath } from '@pdr/config';

/** A problem reported by @pdr/config that concerns the database section (`<where>: database.<key>: …`). */
function isDatabaseIssue(issue: string): boolean {
  return /(^|: )database(\.|\[|:)/.test(issue);
}

/**
 * The configuration of `pdr run`. Its `database` section and the PDR_DB_* variables belong to the state
 * service: a run never opens a database, so it never reads them and never fails on them (a typo there is
 * the state service's to report). PDR_DB_* are left out of the environment; when the only problems of the
 * file are in its database section, the file is read again without that section.
 */
export function loadRunConfig(opts: LoadConfigOptions & { env: NodeJS.ProcessEnv; cwd: string }): LoadedConfig {
  const env = Object.fromEntries(Object.entries(opts.env).filter(([k]) => !k.startsWith('PDR_DB_')));
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ ...opts, env });
  } catch (err) {
    if (!(err instanceof ConfigError) || opts.file === undefined || err.issues.length === 0 || !err.issues.every(isDatabaseIssue)) throw err;
    loaded = loadWithoutDatabase(opts, env, err);
  }
  return { ...loaded, warnings: loaded.warnings.filter((w) => !isDatabaseIssue(w) && !/\bdatabase\.type\b/.test(w)) };
}

function loadWithoutDatabase(opts: LoadConfigOptions & { cwd: string }, env: NodeJS.ProcessEnv, original: ConfigError): LoadedConfig {
  const file = resolvePath(opts.cwd, opts.file as string);
  let text: string;
  try {
    const doc = parseDocument(fs.readFileSync(file, 'utf8'), { merge: true });
    doc.delete('database');
    text = String(doc);
  } catch {
    throw original;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-run-config-'));
  const copy = path.join(dir, path.basename(file));
  try {
    fs.writeFileSync(copy, text, { mode: 0o600 });
    const loaded = loadConfig({ ...opts, env, file: copy });
    const fix = (s: string) => s.split(copy).join(file);
    return { ...loaded, file, warnings: loaded.warnings.map(fix) };
  } catch {
    throw original;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
