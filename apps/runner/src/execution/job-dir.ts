import { promises as fs, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkBaseDir, checkChemistry, checkExecutable, checkOnionInputs, preflightLine } from '@pdr/domain';
import { describeError } from '@pdr/storage';
import { JobFailure } from './job-failure';
import type { JobRunSpec } from './types';

/*
 * The job directory is the runner's local scratch space (the runner warns at start when --work-dir is not on
 * a local filesystem): it is laid out with synchronous calls (microseconds each), because every asynchronous
 * fs call cost ~30-100 µs of CPU in thread-pool hand-offs on the 2-core machines here, ~40 of them per job
 * (docs/benchmarks.md). The base dir, often on a shared filesystem, is read with asynchronous calls: a
 * hanging file server must not block the runner's event loop.
 */

/** Output directories the executables write into (SPEC §5.4 step 1). */
export const OUTPUT_DIRS = ['pdroutput', 'onionoutput', 'Out'] as const;
/** Input directories linked entry by entry from the base dir (SPEC §5.4 step 2, defect 14 fixed). */
export const INPUT_DIRS = ['pdrinpdata', 'onioninpdata', 'In', 'templates'] as const;
export const CHEM_LINK = 'chem_rates.dat';

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.stat(p);
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return null;
    throw err;
  }
}

/** Create `<workRoot>/<model>/<job>.<attempt>-XXXXXX`. */
export async function createJobDir(spec: JobRunSpec): Promise<string> {
  const parent = path.join(spec.workRoot, spec.modelName);
  try {
    mkdirSync(parent, { recursive: true });
    return mkdtempSync(path.join(parent, `${spec.jobName}.${spec.attempt}-`));
  } catch (err) {
    throw new JobFailure('internal', `cannot create a job directory under ${parent}: ${describeError(err)}`, true, { cause: err });
  }
}

/**
 * The checks of the base dir that depend on this machine, with the wording of the CLI's preflight
 * (@pdr/domain preflight): a problem fails the point, permanently, before anything runs.
 */
async function preflight(spec: JobRunSpec, needs: { needPdr: boolean; needOnion: boolean }): Promise<void> {
  const base = await checkBaseDir(spec.baseDir);
  if (base) throw new JobFailure('setup', preflightLine(base), false);
  if (needs.needPdr) {
    const chem = await checkChemistry(spec.baseDir, spec.chemDatabase);
    if (chem) throw new JobFailure('input', preflightLine(chem), false);
    const pdr = await checkExecutable('pdr', spec.baseDir, spec.executables.pdr);
    if (pdr) throw new JobFailure('setup', preflightLine(pdr), false);
  }
  if (needs.needOnion) {
    const onion = await checkExecutable('onion', spec.baseDir, spec.executables.onion);
    if (onion) throw new JobFailure('setup', preflightLine(onion), false);
    const inputs = await checkOnionInputs(spec.baseDir, spec.species);
    if (inputs.length > 0) throw new JobFailure('input', inputs.map(preflightLine).join('; '), false);
  }
}

/**
 * Lay out the job directory (SPEC §5.4 with defects 14 and 15 fixed): output dirs; input dirs as real
 * directories holding one symlink per base-dir entry (no copies); `pdrinpdata/chem_rates.dat` → the
 * chosen chemistry file; symlinks to the pdr and onion executables only; the rendered inputs.
 * Returns warnings (missing optional input directories).
 */
export async function populateJobDir(spec: JobRunSpec, jobDir: string, opts: { needPdr: boolean; needOnion: boolean }): Promise<string[]> {
  const warnings: string[] = [];
  await preflight(spec, opts);
  const chemPath = path.join(spec.baseDir, 'pdrinpdata', spec.chemDatabase);
  const chemStat = await statOrNull(chemPath).catch(() => null);
  const exes: Array<[string, string]> = [];
  if (opts.needPdr) exes.push([spec.executables.pdr, path.join(spec.baseDir, spec.executables.pdr)]);
  if (opts.needOnion) exes.push([spec.executables.onion, path.join(spec.baseDir, spec.executables.onion)]);

  try {
    for (const d of OUTPUT_DIRS) mkdirSync(path.join(jobDir, d));
    for (const d of INPUT_DIRS) {
      const src = path.join(spec.baseDir, d);
      const st = await statOrNull(src);
      if (!st || !st.isDirectory()) {
        warnings.push(`input directory ${src} not found; the job directory has an empty ${d}/`);
        mkdirSync(path.join(jobDir, d));
        continue;
      }
      mkdirSync(path.join(jobDir, d));
      for (const entry of await fs.readdir(src)) {
        if (d === 'pdrinpdata' && entry === CHEM_LINK) continue;
        symlinkSync(path.join(src, entry), path.join(jobDir, d, entry));
      }
    }
    if (chemStat?.isFile()) symlinkSync(chemPath, path.join(jobDir, 'pdrinpdata', CHEM_LINK));
    for (const [name, target] of exes) symlinkSync(target, path.join(jobDir, name));
    if (spec.inputs.pdrnewInp !== null) writeFileSync(path.join(jobDir, 'PDRNEW.INP'), spec.inputs.pdrnewInp);
    if (spec.inputs.pdrConfigJson !== null) writeFileSync(path.join(jobDir, 'pdr_config.json'), spec.inputs.pdrConfigJson);
  } catch (err) {
    throw new JobFailure('internal', `cannot set up job directory ${jobDir}: ${describeError(err)}`, true, { cause: err });
  }
  return warnings;
}
