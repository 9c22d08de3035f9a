import { promises as fs, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
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

/**
 * Job directories kept between the jobs of one runner (at most one per slot), so a quick job does not lay
 * out and remove ~20 directories and links each time: on ext4 without a journal every inode created soon
 * after others were deleted costs a scan of the recently deleted ones (docs/benchmarks.md, issue 17). A
 * directory is parked (renamed to `<workRoot>/.reuse-<pid>-<suffix>`) only after `clearJobDir`, and the
 * next job's `populateJobDir` brings it to exactly that job's layout: nothing of an earlier job is left.
 */
export class JobDirPool {
  private readonly parked: string[] = [];
  private closed = false;
  /** `.reuse-<host>-<pid>-`: this runner's parked directories; another runner's on this host are its own. */
  private readonly prefix = `.reuse-${safeHost()}-${process.pid}-`;

  constructor(
    private readonly workRoot: string,
    /** Directories kept at most (the runner's slots): more are removed. */
    private readonly max: number,
  ) {}

  /**
   * Removes what runners of this host that are gone left parked (a runner killed at the end of its Slurm
   * walltime does not close its pool): `.reuse-<this host>-<pid>-*` whose pid is not alive. Best effort.
   */
  sweepDead(): string[] {
    const removed: string[] = [];
    let names: string[];
    try {
      names = readdirSync(this.workRoot);
    } catch {
      return removed;
    }
    const mine = `.reuse-${safeHost()}-`;
    for (const name of names) {
      if (!name.startsWith(mine)) continue;
      const pid = Number(name.slice(mine.length).split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
      rmSync(path.join(this.workRoot, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** A parked directory, or null. */
  take(): string | null {
    return this.parked.pop() ?? null;
  }

  /**
   * Park a job directory that `clearJobDir` emptied; false when the pool is full or closed, or the rename
   * failed (the caller removes it).
   */
  park(dir: string): boolean {
    if (this.closed || this.parked.length >= this.max) return false;
    const to = path.join(this.workRoot, `${this.prefix}${suffixOf(dir)}`);
    try {
      if (existsSync(to)) return false;
      renameSync(dir, to);
    } catch {
      return false;
    }
    this.parked.push(to);
    return true;
  }

  /** Removes the parked directories (runner shutdown); jobs that end later remove their own. */
  close(): void {
    this.closed = true;
    for (const d of this.parked.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** The host name as a file name part (no separators or dashes: the pid follows the next dash). */
function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.]/g, '_') || 'host';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/** The random part of a job directory's name (`<job>.<attempt>-XXXXXX`, `.reuse-<pid>-XXXXXX`). */
function suffixOf(dir: string): string {
  const base = path.basename(dir);
  return base.slice(base.lastIndexOf('-') + 1);
}

/**
 * Create `<workRoot>/<model>/<job>.<attempt>-XXXXXX`, or rename a parked directory of `pool` to that name
 * (`reused`: its layout is corrected by populateJobDir; never with keepTmp, whose directory stays).
 */
export async function createJobDir(spec: JobRunSpec, pool?: JobDirPool): Promise<{ dir: string; reused: boolean }> {
  const parent = path.join(spec.workRoot, spec.modelName);
  try {
    mkdirSync(parent, { recursive: true });
    const parked = spec.keepTmp ? null : (pool?.take() ?? null);
    if (parked) {
      const dir = path.join(parent, `${spec.jobName}.${spec.attempt}-${suffixOf(parked)}`);
      try {
        if (!existsSync(dir)) {
          renameSync(parked, dir);
          return { dir, reused: true };
        }
      } catch {
        // a fresh one below
      }
      rmSync(parked, { recursive: true, force: true });
    }
    return { dir: mkdtempSync(path.join(parent, `${spec.jobName}.${spec.attempt}-`)), reused: false };
  } catch (err) {
    throw new JobFailure('internal', `cannot create a job directory under ${parent}: ${describeError(err)}`, true, { cause: err });
  }
}

/** Rendered input files of the job directory. */
const RENDERED = ['PDRNEW.INP', 'pdr_config.json'] as const;

/**
 * What a finished job leaves for the next one: the input directories, the top-level links and the rendered
 * inputs (all checked again by populateJobDir), the output directories emptied; everything else removed.
 */
export function clearJobDir(jobDir: string): void {
  for (const e of readdirSync(jobDir, { withFileTypes: true })) {
    const p = path.join(jobDir, e.name);
    if (e.isDirectory() && (OUTPUT_DIRS as readonly string[]).includes(e.name)) emptyDir(p);
    else if (!(e.isDirectory() && (INPUT_DIRS as readonly string[]).includes(e.name)) && !e.isSymbolicLink() && !(e.isFile() && (RENDERED as readonly string[]).includes(e.name))) {
      rmSync(p, { recursive: true, force: true });
    }
  }
}

function emptyDir(dir: string, keep?: ReadonlySet<string>): void {
  for (const name of readdirSync(dir)) if (!keep?.has(name)) rmSync(path.join(dir, name), { recursive: true, force: true });
}

/** `p` is a real directory (not a link to one); anything else in its place is removed first. */
function ensureDir(p: string): void {
  const st = lstatOrNull(p);
  if (st?.isDirectory()) return;
  if (st) rmSync(p, { recursive: true, force: true });
  mkdirSync(p);
}

/** `p` is a symlink to `target`; anything else in its place is removed first. */
function ensureLink(p: string, target: string): void {
  const st = lstatOrNull(p);
  if (st?.isSymbolicLink() && readlinkSync(p) === target) return;
  if (st) rmSync(p, { recursive: true, force: true });
  symlinkSync(target, p);
}

/** `p` holds `content`: a regular file with one link is rewritten in place, anything else replaced. */
function ensureFile(p: string, content: string): void {
  const st = lstatOrNull(p);
  if (st && !(st.isFile() && st.nlink === 1)) rmSync(p, { recursive: true, force: true });
  writeFileSync(p, content);
}

function lstatOrNull(p: string): import('node:fs').Stats | null {
  try {
    return lstatSync(p);
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw err;
  }
}

/**
 * The checks of the base dir that depend on this machine, with the wording of the CLI's preflight
 * (@pdr/domain preflight): a problem fails the point, permanently, before anything runs.
 */
async function preflight(spec: JobRunSpec, needs: { needPdr: boolean; needOnion: boolean }): Promise<void> {
  // all at once (each is a stat and an access through the thread pool, a round trip of a few ms on a busy
  // machine: one after the other they were ~20 ms of every job), reported in this order
  const [base, chem, pdr, onion, inputs] = await Promise.all([
    checkBaseDir(spec.baseDir),
    needs.needPdr ? checkChemistry(spec.baseDir, spec.chemDatabase) : null,
    needs.needPdr ? checkExecutable('pdr', spec.baseDir, spec.executables.pdr) : null,
    needs.needOnion ? checkExecutable('onion', spec.baseDir, spec.executables.onion) : null,
    needs.needOnion ? checkOnionInputs(spec.baseDir, spec.species) : [],
  ]);
  if (base) throw new JobFailure('setup', preflightLine(base), false);
  if (chem) throw new JobFailure('input', preflightLine(chem), false);
  if (pdr) throw new JobFailure('setup', preflightLine(pdr), false);
  if (onion) throw new JobFailure('setup', preflightLine(onion), false);
  if (inputs.length > 0) throw new JobFailure('input', inputs.map(preflightLine).join('; '), false);
}

/** The entries of each input directory of the base dir (null: missing or not a directory), read all at once. */
async function readInputDirs(baseDir: string): Promise<Array<string[] | null>> {
  return Promise.all(
    INPUT_DIRS.map(async (d) => {
      const src = path.join(baseDir, d);
      const st = await statOrNull(src);
      return st?.isDirectory() ? fs.readdir(src) : null;
    }),
  );
}

/** What a job directory's layout reads from the base dir: its checks, input listings and chemistry file. */
export interface BaseDirReads {
  needs: { needPdr: boolean; needOnion: boolean };
  settled: Promise<[PromiseSettledResult<void>, PromiseSettledResult<Array<string[] | null>>, PromiseSettledResult<import('node:fs').Stats | null>]>;
}

/**
 * The base dir's checks and listings a job's layout needs, started now (they never reject: populateJobDir
 * reports their errors). The runner starts them while a job claimed ahead waits for its slot, so the
 * ~15 thread-pool round trips are off the slot's path (issue 17); populateJobDir reads them again if the
 * job turns out to need other checks (force-onion after a skip).
 */
export function readBaseDir(spec: JobRunSpec, needs: { needPdr: boolean; needOnion: boolean }): BaseDirReads {
  const chemPath = path.join(spec.baseDir, 'pdrinpdata', spec.chemDatabase);
  // the base dir's checks and listings together; a failed check is reported before a failed listing
  return { needs, settled: Promise.allSettled([preflight(spec, needs), readInputDirs(spec.baseDir), statOrNull(chemPath).catch(() => null)]) };
}

/**
 * Lay out the job directory (SPEC §5.4 with defects 14 and 15 fixed): output dirs; input dirs as real
 * directories holding one symlink per base-dir entry (no copies); `pdrinpdata/chem_rates.dat` → the
 * chosen chemistry file; symlinks to the pdr and onion executables only; the rendered inputs.
 * `reads`: the base dir's checks and listings started earlier (readBaseDir), used when made for the same
 * needs. Returns warnings (missing optional input directories).
 */
export async function populateJobDir(spec: JobRunSpec, jobDir: string, opts: { needPdr: boolean; needOnion: boolean }, reads?: BaseDirReads): Promise<string[]> {
  const warnings: string[] = [];
  const chemPath = path.join(spec.baseDir, 'pdrinpdata', spec.chemDatabase);
  const same = reads !== undefined && reads.needs.needPdr === opts.needPdr && reads.needs.needOnion === opts.needOnion;
  const [checked, listed, chemStat] = await (same ? reads : readBaseDir(spec, opts)).settled;
  if (checked.status === 'rejected') throw checked.reason;
  if (listed.status === 'rejected') throw new JobFailure('internal', `cannot set up job directory ${jobDir}: ${describeError(listed.reason)}`, true, { cause: listed.reason });
  const chem = chemStat.status === 'fulfilled' ? chemStat.value : null;
  const exes: Array<[string, string]> = [];
  if (opts.needPdr) exes.push([spec.executables.pdr, path.join(spec.baseDir, spec.executables.pdr)]);
  if (opts.needOnion) exes.push([spec.executables.onion, path.join(spec.baseDir, spec.executables.onion)]);

  try {
    // the layout, whatever the directory held before (a reused one: an earlier job's; see JobDirPool)
    const top = new Set<string>([...OUTPUT_DIRS, ...INPUT_DIRS, ...exes.map(([name]) => name)]);
    for (const f of RENDERED) if ((f === 'PDRNEW.INP' ? spec.inputs.pdrnewInp : spec.inputs.pdrConfigJson) !== null) top.add(f);
    emptyDir(jobDir, top);
    for (const d of OUTPUT_DIRS) {
      ensureDir(path.join(jobDir, d));
      emptyDir(path.join(jobDir, d));
    }
    for (const [i, d] of INPUT_DIRS.entries()) {
      const src = path.join(spec.baseDir, d);
      const dst = path.join(jobDir, d);
      const entries = listed.value[i];
      ensureDir(dst);
      if (!entries) {
        warnings.push(`input directory ${src} not found; the job directory has an empty ${d}/`);
        emptyDir(dst);
        continue;
      }
      const links = new Map<string, string>();
      for (const entry of entries) {
        if (d === 'pdrinpdata' && entry === CHEM_LINK) continue;
        links.set(entry, path.join(src, entry));
      }
      if (d === 'pdrinpdata' && chem?.isFile()) links.set(CHEM_LINK, chemPath);
      emptyDir(dst, new Set(links.keys()));
      for (const [name, target] of links) ensureLink(path.join(dst, name), target);
    }
    for (const [name, target] of exes) ensureLink(path.join(jobDir, name), target);
    if (spec.inputs.pdrnewInp !== null) ensureFile(path.join(jobDir, 'PDRNEW.INP'), spec.inputs.pdrnewInp);
    if (spec.inputs.pdrConfigJson !== null) ensureFile(path.join(jobDir, 'pdr_config.json'), spec.inputs.pdrConfigJson);
  } catch (err) {
    throw new JobFailure('internal', `cannot set up job directory ${jobDir}: ${describeError(err)}`, true, { cause: err });
  }
  return warnings;
}
