import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { JobRunSpec, JobRunStatus } from './types';

/**
 * Outputs of a job whose store failed, kept on the runner so the model is never computed twice for a
 * storage problem (a 12-hour PDR run lost five times to an unwritable folder before this). One folder per
 * job: `<workRoot>/.quarantine/<model>/<job>/` (a model name never starts with ".", so it cannot collide
 * with job directories), holding the whole job directory and `quarantine.json`. Its folder and host are
 * recorded with the job (the `outputs-quarantined` step), so the next run of the job (`pdr retry`, or the
 * redelivery after a transient failure) stores these files instead of running PDR, as long as its inputs
 * are the same — on this runner, or on another runner of the same machine (another work dir). A runner on
 * another machine cannot reach them: it says so (a warning of the attempt) and runs PDR again.
 */
export const QUARANTINE_DIR = '.quarantine';
const MANIFEST = 'quarantine.json';

export interface QuarantineItem {
  role: string;
  /** Path of the file inside the quarantine folder. */
  file: string;
  /** Where it goes in storage. */
  relPath: string;
}

export interface QuarantineManifest {
  v: 1;
  /** sha256 of what defines the job's outputs: rendered inputs, species, executables, chemistry file. */
  inputsKey: string;
  /** The outcome of the computation, reported once the files are stored. */
  status: Extract<JobRunStatus, 'finished' | 'problem'>;
  reason: string | null;
  exitCodes: { pdr?: number | null; onion: Record<string, number | null> };
  speciesFailures: Record<string, string>;
  /** Storage order: optional files first, the files of the skip check last. */
  batches: QuarantineItem[][];
  createdAt: string;
  storeFailure: string;
}

export function quarantineDir(spec: Pick<JobRunSpec, 'workRoot' | 'modelName' | 'jobName'>): string {
  return path.join(spec.workRoot, QUARANTINE_DIR, spec.modelName, spec.jobName);
}

/** Same key ⇔ the same computation: a retry may store the kept outputs instead of running PDR again. */
export function inputsKey(spec: JobRunSpec): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        spec.modelName,
        spec.jobName,
        spec.baseDir,
        spec.executables,
        spec.chemDatabase,
        spec.species,
        spec.inputs.pdrnewInp,
        spec.inputs.pdrConfigJson,
      ]),
    )
    .digest('hex');
}

/**
 * Move the job directory into quarantine (a rename on the runner's scratch filesystem) and write its manifest;
 * `batches` name files by their path in the job directory. Returns the quarantine folder.
 */
export function quarantine(jobDir: string, spec: JobRunSpec, m: Omit<QuarantineManifest, 'v' | 'inputsKey' | 'createdAt'>): string {
  const dir = quarantineDir(spec);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  renameSync(jobDir, dir);
  const rebase = (items: QuarantineItem[]) => items.map((it) => ({ ...it, file: path.relative(jobDir, it.file) }));
  const manifest: QuarantineManifest = { v: 1, inputsKey: inputsKey(spec), createdAt: new Date().toISOString(), ...m, batches: m.batches.map(rebase) };
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

/**
 * The quarantined outputs of this job (file paths absolute), or null when there are none or unreadable.
 * Looked for where the database says an earlier attempt kept them (`spec.quarantine`: another runner's work
 * dir, when it is on this machine and readable here), then in this runner's own quarantine folder. Outputs
 * kept on another machine cannot be reached: `unreachable` says so, and the job runs again.
 */
export function readQuarantine(spec: JobRunSpec): { dir: string; manifest: QuarantineManifest } | { unreachable: string } | null {
  const own = quarantineDir(spec);
  const recorded = spec.quarantine;
  const here = hostname();
  let unreachable: string | null = null;
  const dirs = [own];
  if (recorded && path.isAbsolute(recorded.dir) && recorded.dir !== own) {
    if (recorded.host !== here) unreachable = `outputs kept by an earlier attempt in ${recorded.dir} on host ${recorded.host} cannot be reached from this runner (host ${here})`;
    else if (!existsSync(path.join(recorded.dir, MANIFEST))) unreachable = `outputs kept by an earlier attempt in ${recorded.dir} on this host are gone or not readable`;
    else dirs.unshift(recorded.dir);
  }
  for (const dir of dirs) {
    const q = readManifest(dir);
    if (q) return q;
  }
  return unreachable ? { unreachable } : null;
}

function readManifest(dir: string): { dir: string; manifest: QuarantineManifest } | null {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return null;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as QuarantineManifest;
    if (manifest.v !== 1 || !Array.isArray(manifest.batches)) return null;
    manifest.batches = manifest.batches.map((b) => b.map((it) => ({ ...it, file: path.join(dir, it.file) })));
    return { dir, manifest };
  } catch {
    return null;
  }
}

export function dropQuarantine(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
