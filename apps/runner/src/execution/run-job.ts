import { closeSync, copyFileSync, openSync, promises as fs, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import {
  StoragePathError,
  assertSafeName,
  describeError,
  isTransientStorageError,
  onionOutputFileNames,
  storagePaths,
  type JobStoragePaths,
  type StoredFile,
} from '@pdr/storage';
import { clearJobDir, createJobDir, populateJobDir } from './job-dir';
import { JobFailure } from './job-failure';
import { dropQuarantine, inputsKey, quarantine, readQuarantine } from './quarantine';
import { runProcess, type ProcessOutcome } from './process-runner';
import { tarGz } from './tar';
import { onionRole } from '@pdr/contracts';
import type { JobRunDeps, JobRunResult, JobRunSpec, PdrFileRole, StepEvent } from './types';

const DEFAULT_KILL_GRACE_MS = 10_000;

/** PDR outputs whose presence in storage means "this job is done" (defect 18: not only the HDF5 file). */
export const REQUIRED_PDR_ROLES = ['hdf4', 'hdf5_struct', 'hdf5_chem', 'ctrl_ind'] as const satisfies readonly PdrFileRole[];

/** Storage name per PDR role. */
export function pdrRolePaths(sp: JobStoragePaths): Record<PdrFileRole, string> {
  return {
    hdf4: sp.hdf4,
    hdf5_struct: sp.hdf5Struct,
    hdf5_chem: sp.hdf5Chem,
    textout: sp.textout,
    chemchk: sp.chemchk,
    mcdrt: sp.mcdrt,
    pdrnew: sp.pdrnew,
    json: sp.json,
    ctrl_ind: sp.ctrlInd,
  };
}

/**
 * Local source (relative to the job dir) of each PDR role, in STORE ORDER: the files the skip check
 * looks for come last, CTRL_IND the very last, so their presence in storage implies the others were
 * stored too. `mcdrt` is the tarball of `Out/` built just before storing.
 */
function pdrLocalSources(jobName: string): Array<[PdrFileRole, string]> {
  return [
    ['textout', 'pdroutput/TEXTOUT'],
    ['chemchk', 'pdroutput/chemchk.out'],
    ['mcdrt', `MCDRT${jobName}.tar.gz`],
    ['pdrnew', 'PDRNEW.INP'],
    ['json', 'pdr_config.json'],
    ['hdf4', 'pdroutput/pdrout.hdf'],
    ['hdf5_chem', 'pdroutput/pdrchem_c.hdf5'],
    ['hdf5_struct', 'pdroutput/pdrstruct_s.hdf5'],
    ['ctrl_ind', 'pdroutput/CTRL_IND'],
  ];
}

/** Role of an onion file in the result: `onion:<species>:<file>` (`TEXTOUT` for its log); the contract's. */
export { onionRole };

/** `YYYY-mm-dd HH:MM:SS UTC` */
function utc(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A regular file in the job directory (local scratch: a synchronous stat, see job-dir.ts)? */
async function isFile(p: string): Promise<boolean> {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function validateSpec(spec: JobRunSpec): void {
  const bad = (msg: string): never => {
    throw new JobFailure('input', msg, false);
  };
  if (typeof spec.jobKey !== 'string' || spec.jobKey === '') bad('jobKey must be a non-empty string');
  if (!Number.isInteger(spec.attempt) || spec.attempt < 0) bad(`attempt must be a non-negative integer, got ${String(spec.attempt)}`);
  try {
    storagePaths(spec.modelName, spec.jobName);
    assertSafeName(spec.executables?.pdr, 'PDR executable name');
    assertSafeName(spec.executables?.onion, 'onion executable name');
    assertSafeName(spec.chemDatabase, 'chemical database file name');
    if (!Array.isArray(spec.species)) bad('species must be an array of names');
    const seen = new Set<string>();
    for (const s of spec.species) {
      assertSafeName(s, 'species');
      if (/\s/.test(s)) bad(`species ${JSON.stringify(s)} contains whitespace`);
      if (seen.has(s)) bad(`species ${JSON.stringify(s)} is listed twice`);
      seen.add(s);
    }
  } catch (err) {
    if (err instanceof StoragePathError) bad(err.message);
    throw err;
  }
  for (const [key, dir] of [
    ['baseDir', spec.baseDir],
    ['workRoot', spec.workRoot],
  ] as const) {
    if (typeof dir !== 'string' || !path.isAbsolute(dir)) bad(`${key} must be an absolute path, got ${JSON.stringify(dir)}`);
  }
  for (const [key, ms] of [
    ['timeouts.pdrMs', spec.timeouts?.pdrMs],
    ['timeouts.onionMs', spec.timeouts?.onionMs],
  ] as const) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) bad(`${key} must be a positive number of milliseconds, got ${String(ms)}`);
  }
  if (spec.killGraceMs !== undefined && (!Number.isFinite(spec.killGraceMs) || spec.killGraceMs < 0)) {
    bad(`killGraceMs must be a non-negative number, got ${String(spec.killGraceMs)}`);
  }
  if (spec.inputs?.pdrnewInp === null && spec.inputs?.pdrConfigJson === null) {
    bad('no input was rendered: both PDRNEW.INP and pdr_config.json are null');
  }
}

/** Mutable state of one run, turned into a JobRunResult at the end. */
class Run {
  readonly files: Record<string, StoredFile> = {};
  readonly warnings: string[] = [];
  readonly speciesFailures: Record<string, string> = {};
  readonly onionExit: Record<string, number | null> = {};
  readonly problems: string[] = [];
  pdrExit: number | null | undefined = undefined;
  workDir: string | null = null;
  bytesStored = 0;
  storedCount = 0;
  /** Onion outputs moved aside per species (the next species overwrites them), stored with the PDR outputs. */
  readonly collected: Array<[role: string, localPath: string, relPath: string]> = [];

  constructor(
    readonly spec: JobRunSpec,
    readonly deps: JobRunDeps,
    readonly sp: JobStoragePaths,
    readonly now: () => Date,
  ) {}

  async report(event: DistributiveOmit<StepEvent, 'jobKey' | 'attempt' | 'at'>): Promise<void> {
    const full = { ...event, jobKey: this.spec.jobKey, attempt: this.spec.attempt, at: this.now() } as StepEvent;
    try {
      await this.deps.report(full);
    } catch (err) {
      this.warnings.push(`report of ${event.type} failed: ${describeError(err)}`);
    }
  }

  get aborted(): boolean {
    return this.deps.signal?.aborted === true;
  }

  /** Store a local file under `relPath`; a failure ends the job as failed (transient or not: the backend says). */
  async store(role: string, localPath: string, relPath: string): Promise<void> {
    await this.storeAll([[role, localPath, relPath]]);
  }

  /**
   * Store several files in one backend call (the backend bounds its parallel transfers, rclone sends them in
   * one process). Every file is finished before it returns, so nothing still writes when the job directory is
   * cleaned up; a failure ends the job, transient (retried later) or permanent as the backend classified it.
   */
  async storeAll(items: ReadonlyArray<readonly [role: string, localPath: string, relPath: string, last?: boolean]>): Promise<void> {
    if (items.length === 0) return;
    let stored: StoredFile[];
    try {
      stored = await untilAborted(this.deps.storage.storeMany(items.map(([, localPath, relPath, last]) => ({ localPath, relPath, last }))), this.deps.signal);
    } catch (err) {
      if (err instanceof StoreAborted) throw err;
      const roles = items.map(([r]) => r).join(', ');
      throw new JobFailure('storage', `storing ${roles} failed: ${describeError(err)}`, isTransientStorageError(err), { cause: err });
    }
    stored.forEach((st, i) => {
      this.files[items[i][0]] = st;
      this.bytesStored += st.size;
      this.storedCount++;
    });
  }

  /**
   * Fill `files` with stored metadata for roles not produced by this run (skip / force-onion). A file the
   * database recorded at an earlier store (spec.recorded, same path) is checked by its size without reading
   * it (`head`: one stat on sftp and rclone) and keeps its recorded sha256; a file with no record, or whose
   * size differs from it (replaced since), or a backend without `head` (local: reading is local), is read
   * back and hashed (`stat`).
   */
  async collectStored(roles: Array<[string, string]>): Promise<void> {
    const storage = this.deps.storage;
    for (const [role, rel] of roles) {
      if (this.files[role]) continue;
      let st: StoredFile | null;
      try {
        const rec = this.spec.recorded?.[role];
        const head = storage.head ? await storage.head(rel) : undefined;
        if (head === null) continue; // not stored (an optional output)
        st =
          head && rec && rec.relPath === rel && head.size === rec.size
            ? { relPath: head.relPath, fullPath: head.fullPath, size: head.size, mtime: head.mtime, sha256: rec.sha256 }
            : await storage.stat(rel);
      } catch (err) {
        throw new JobFailure('storage', `reading metadata of stored ${rel} failed: ${describeError(err)}`, isTransientStorageError(err), { cause: err });
      }
      if (st) this.files[role] = st;
    }
  }

  storedRoles(): Array<[string, string]> {
    const roles: Array<[string, string]> = Object.entries(pdrRolePaths(this.sp));
    for (const s of this.spec.species) {
      for (const f of onionOutputFileNames(s)) roles.push([onionRole(s, f), this.sp.onionFile(f)]);
      roles.push([onionRole(s, 'TEXTOUT'), this.sp.onionTextout(s)]);
    }
    return roles;
  }
}

/** A kill request (pdr cancel --kill, shutdown, lost claim) arrived while files were being stored. */
class StoreAborted extends Error {}

/** `p`, or a StoreAborted as soon as `signal` aborts: a kill reaches a job in its store phase too. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new StoreAborted('aborted while storing'));
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new StoreAborted('aborted while storing'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Run ONE job to stored outputs (SPEC §5.4–5.11 with defects 11–21 and 25 fixed), without messaging
 * or database: skip check → job dir → PDR → onion per species → store → clean up.
 */
export async function runJob(spec: JobRunSpec, deps: JobRunDeps): Promise<JobRunResult> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  let sp: JobStoragePaths | undefined;
  let run: Run | undefined;
  let outcome: Pick<JobRunResult, 'status' | 'reason' | 'failure' | 'transient'>;
  try {
    validateSpec(spec);
    sp = storagePaths(spec.modelName, spec.jobName);
    run = new Run(spec, deps, sp, now);
    outcome = await execute(run);
  } catch (err) {
    if (err instanceof StoreAborted) outcome = { status: 'aborted', reason: `aborted while storing: ${describeError(deps.signal?.reason ?? 'abort signal')}` };
    else if (err instanceof JobFailure) outcome = { status: 'failed', reason: err.message, failure: err.kind, transient: err.transient };
    else outcome = { status: 'failed', reason: `internal error: ${describeError(err)}`, failure: 'internal', transient: true };
  }
  let workDirKept = false;
  if (run?.workDir) {
    if (spec.keepTmp) workDirKept = true;
    else {
      try {
        // a job that ended normally hands its directory to the slot's next job (JobDirPool); one that
        // failed or was stopped may have left anything behind, and a process of it may still be exiting
        const pool = outcome.status === 'finished' || outcome.status === 'problem' ? deps.jobDirs : undefined;
        let parked = false;
        if (pool) {
          try {
            clearJobDir(run.workDir);
            parked = pool.park(run.workDir);
          } catch {
            // removed below
          }
        }
        if (!parked) rmSync(run.workDir, { recursive: true, force: true });
      } catch (err) {
        workDirKept = true;
        run.warnings.push(`cannot remove job directory ${run.workDir}: ${describeError(err)}`);
      }
    }
  }
  const finishedAt = now();
  return {
    ...outcome,
    exitCodes: { ...(run?.pdrExit !== undefined ? { pdr: run.pdrExit } : {}), onion: { ...(run?.onionExit ?? {}) } },
    speciesFailures: { ...(run?.speciesFailures ?? {}) },
    files: { ...(run?.files ?? {}) },
    startedAt,
    finishedAt,
    executionMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
    workDir: run?.workDir ?? null,
    workDirKept,
    warnings: [...(run?.warnings ?? [])],
  };
}

async function execute(run: Run): Promise<Pick<JobRunResult, 'status' | 'reason' | 'failure' | 'transient'>> {
  const { spec, deps, sp } = run;
  const abortedResult = () => ({ status: 'aborted' as const, reason: `aborted: ${describeError(deps.signal?.reason ?? 'abort signal')}` });
  if (run.aborted) return abortedResult();

  // 0. Outputs of an earlier run whose store failed: store them, PDR is not run again
  const restored = await storeFromQuarantine(run);
  if (restored) return restored;

  // 1. Skip check: all required PDR outputs stored? (storage errors are failures, never "missing")
  const rolePaths = pdrRolePaths(sp);
  let present: boolean[];
  try {
    present = await Promise.all(REQUIRED_PDR_ROLES.map((r) => deps.storage.exists(rolePaths[r])));
  } catch (err) {
    throw new JobFailure('storage', `checking stored outputs in ${deps.storage.describe()} failed: ${describeError(err)}`, isTransientStorageError(err), { cause: err });
  }
  const outputsStored = present.every(Boolean);
  if (outputsStored && !spec.forceOnion) {
    await run.collectStored(run.storedRoles());
    await run.report({ type: 'outputs-exist', forceOnion: false, files: Object.keys(run.files).length });
    return { status: 'skipped', reason: `PDR outputs already stored in ${deps.storage.describe()}` };
  }
  const onionOnly = outputsStored && spec.forceOnion;
  if (onionOnly) await run.report({ type: 'outputs-exist', forceOnion: true, files: REQUIRED_PDR_ROLES.length });

  // 2. Job directory
  run.workDir = (await createJobDir(spec, deps.jobDirs)).dir;
  const jobDir = run.workDir;
  run.warnings.push(...(await populateJobDir(spec, jobDir, { needPdr: !onionOnly, needOnion: spec.species.length > 0 }, deps.baseDirReads)));
  await run.report({ type: 'setup-finished', workDir: jobDir });
  if (run.aborted) return abortedResult();

  const env = { ...process.env, ...(spec.env ?? {}) };
  const killGraceMs = spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const structLocal = path.join(jobDir, 'pdroutput', 'pdrstruct_s.hdf5');
  const ctrlLocal = path.join(jobDir, 'pdroutput', 'CTRL_IND');

  if (onionOnly) {
    // Force-onion after a skip (defect 17): restore what onion needs from storage.
    for (const [rel, local] of [
      [sp.hdf5Struct, structLocal],
      [sp.ctrlInd, ctrlLocal],
    ] as const) {
      try {
        await deps.storage.retrieve(rel, local);
      } catch (err) {
        throw new JobFailure('storage', `restoring ${rel} for force-onion failed: ${describeError(err)}`, isTransientStorageError(err), { cause: err });
      }
    }
  } else {
    // 3. PDR
    const pdr = await runLogged(run, {
      logFile: path.join(jobDir, 'pdroutput', 'TEXTOUT'),
      header: [`Begin of PDR Job: ${utc(run.now())}`, ' '],
      command: `./${spec.executables.pdr}`,
      args: [],
      timeoutMs: spec.timeouts.pdrMs,
      env,
      killGraceMs,
      what: `PDR executable ${path.join(spec.baseDir, spec.executables.pdr)}`,
      footer: (o) => [' ', describeExit('PDR', o, spec.timeouts.pdrMs), `End of PDR Job: ${utc(run.now())}`],
      onSpawn: (pid) => run.report({ type: 'pdr-started', pid, executable: spec.executables.pdr }),
    });
    run.pdrExit = pdr.exitCode;
    await run.report({ type: 'pdr-finished', exitCode: pdr.exitCode, signal: pdr.signal, timedOut: pdr.timedOut, durationMs: pdr.durationMs });
    if (pdr.aborted) return abortedResult();
    if (pdr.timedOut) {
      throw new JobFailure('timeout', `timeout: PDR did not finish within ${spec.timeouts.pdrMs} ms and was killed`, false);
    }
    if (pdr.exitCode !== 0) run.problems.push(describeFailure('PDR', pdr, spec.timeouts.pdrMs));
    else {
      const missing: string[] = [];
      for (const [role, local] of pdrLocalSources(spec.jobName)) {
        if ((REQUIRED_PDR_ROLES as readonly string[]).includes(role) && !(await isFile(path.join(jobDir, local)))) missing.push(local);
      }
      if (missing.length) run.problems.push(`PDR exited with code 0 but did not write ${missing.join(', ')}`);
    }
  }

  // 4. Onion per species (after PDR, before storing: onion modifies the structure file)
  const onionBlocker =
    run.pdrExit !== undefined && run.pdrExit !== 0
      ? `not run: PDR exited with code ${String(run.pdrExit)}`
      : !(await isFile(structLocal))
        ? 'not run: pdroutput/pdrstruct_s.hdf5 is missing'
        : !(await isFile(ctrlLocal))
          ? 'not run: pdroutput/CTRL_IND is missing'
          : null;
  for (const species of spec.species) {
    if (run.aborted) return abortedResult();
    run.onionExit[species] = null;
    if (onionBlocker) {
      await failSpecies(run, species, onionBlocker);
      continue;
    }
    const outcome = await runOnion(run, species, env, killGraceMs, structLocal, ctrlLocal);
    if (outcome === 'aborted') return abortedResult();
  }
  if (run.aborted) return abortedResult();

  // 5. Store every output (PDR outputs after onion, which modifies the structure file; the files of the skip
  // check last). A failed store keeps the outputs in quarantine: the model is not computed again for it.
  deps.onStoring?.();
  for (const [s, why] of Object.entries(run.speciesFailures)) run.problems.push(`onion ${s}: ${why}`);
  const outcome = run.problems.length ? { status: 'problem' as const, reason: capReason(run.problems.join('; ')) } : { status: 'finished' as const };
  const required = (r: string) => (REQUIRED_PDR_ROLES as readonly string[]).includes(r);
  let batches: Array<Array<[string, string, string]>>;
  if (onionOnly) {
    batches = [[...run.collected], [['hdf5_struct', structLocal, sp.hdf5Struct]]];
  } else {
    const mcdrtLocal = path.join(jobDir, `MCDRT${spec.jobName}.tar.gz`);
    try {
      await tarGz(jobDir, 'Out', mcdrtLocal);
    } catch (err) {
      throw new JobFailure('internal', `building ${path.basename(mcdrtLocal)} from Out/ failed: ${describeError(err)}`, true, { cause: err });
    }
    const present: Array<[PdrFileRole, string, string]> = [];
    for (const [role, local] of pdrLocalSources(spec.jobName)) {
      const abs = path.join(jobDir, local);
      if (await isFile(abs)) present.push([role, abs, rolePaths[role]]);
    }
    batches = [[...run.collected, ...present.filter(([r]) => !required(r))], present.filter(([r]) => required(r))];
  }
  try {
    // one call: the backend stores the first batch, then the second (the files of the skip check)
    await run.storeAll(batches.flatMap((b, i) => b.map(([role, local, rel]) => [role, local, rel, i > 0] as const)));
  } catch (err) {
    if (!(err instanceof JobFailure) || err.kind !== 'storage') throw err;
    let kept: string;
    try {
      kept = quarantine(jobDir, spec, {
        ...outcome,
        reason: outcome.status === 'problem' ? outcome.reason : null,
        exitCodes: { ...(run.pdrExit !== undefined ? { pdr: run.pdrExit } : {}), onion: { ...run.onionExit } },
        speciesFailures: { ...run.speciesFailures },
        batches: batches.map((b) => b.map(([role, file, relPath]) => ({ role, file, relPath }))),
        storeFailure: err.message,
      });
    } catch (qerr) {
      throw new JobFailure('storage', `${err.message}; the outputs could not be kept in quarantine either: ${describeError(qerr)}`, err.transient, { cause: err });
    }
    run.workDir = null; // moved: nothing to clean up
    // recorded with the job: the next attempt finds the outputs whichever runner of this machine claims it
    await run.report({ type: 'outputs-quarantined', dir: kept, host: hostname() });
    throw new JobFailure('storage', `${err.message}; outputs kept in ${kept} on ${hostname()} (a retry on a runner of this machine stores them without running PDR again)`, err.transient, {
      cause: err,
    });
  }
  if (onionOnly) await run.collectStored(Object.entries(rolePaths));
  await run.report({ type: 'outputs-stored', files: run.storedCount, bytes: run.bytesStored });
  return outcome;
}

/**
 * Outputs of an earlier run of this job kept in quarantine after a failed store: stored now instead of
 * running PDR again when the inputs are the same (the earlier outcome is reported); discarded when not.
 * Returns null when there is nothing to store from quarantine.
 */
async function storeFromQuarantine(run: Run): Promise<Pick<JobRunResult, 'status' | 'reason'> | null> {
  const found = readQuarantine(run.spec);
  if (!found) return null;
  if ('unreachable' in found) {
    run.warnings.push(`${found.unreachable}: PDR runs again`);
    return null;
  }
  const q = found;
  const m = q.manifest;
  if (m.inputsKey !== inputsKey(run.spec)) {
    run.warnings.push(`outputs kept in ${q.dir} were computed from other inputs: discarded, the job runs again`);
    dropQuarantine(q.dir);
    return null;
  }
  try {
    await run.storeAll(m.batches.flatMap((b, i) => b.map((it) => [it.role, it.file, it.relPath, i > 0] as const)));
  } catch (err) {
    if (err instanceof JobFailure && err.kind === 'storage') {
      throw new JobFailure('storage', `${err.message}; outputs still kept in ${q.dir}`, err.transient, { cause: err });
    }
    throw err;
  }
  if (m.exitCodes.pdr !== undefined) run.pdrExit = m.exitCodes.pdr;
  Object.assign(run.onionExit, m.exitCodes.onion);
  Object.assign(run.speciesFailures, m.speciesFailures);
  await run.report({ type: 'outputs-restored', from: q.dir, files: run.storedCount, bytes: run.bytesStored });
  dropQuarantine(q.dir);
  return m.status === 'problem' ? { status: 'problem', reason: m.reason ?? undefined } : { status: 'finished' };
}

/** Lines of an executable's output quoted in a failure reason (its last ones: a Fortran runtime error, a stack trace). */
export const REASON_TAIL_LINES = 3;
const REASON_TAIL_LINE_CHARS = 200;
/** The finish request carries at most 4000 characters of reason (libs/contracts jobFinishRequest). */
const REASON_MAX_CHARS = 3900;

/**
 * The last non-empty lines an executable wrote (stdout and stderr share the log file, so this is where
 * `forrtl: severe (174)` ends up), read before the runner's footer is appended; [] when unreadable.
 */
function lastOutputLines(logFile: string, fromByte: number): string[] {
  try {
    const size = statSync(logFile).size;
    const start = Math.max(fromByte, size - 4096);
    if (size <= start) return [];
    const buf = Buffer.alloc(size - start);
    const fd = openSync(logFile, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    const lines = buf.toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    if (start > fromByte) lines.shift(); // a partial first line
    return lines.slice(-REASON_TAIL_LINES).map((l) => (l.length > REASON_TAIL_LINE_CHARS ? `${l.slice(0, REASON_TAIL_LINE_CHARS)}…` : l));
  } catch {
    return [];
  }
}

/** describeExit plus the executable's last output lines, for the reason of a failed point. */
function describeFailure(what: string, o: ProcessOutcome & { tail?: string[] }, timeoutMs: number): string {
  const base = describeExit(what, o, timeoutMs);
  return o.tail && o.tail.length > 0 ? `${base}; last output: ${o.tail.map((l) => JSON.stringify(l)).join(' ')}` : base;
}

function capReason(text: string): string {
  return text.length > REASON_MAX_CHARS ? `${text.slice(0, REASON_MAX_CHARS)}… (the whole output: pdr log)` : text;
}

function describeExit(what: string, o: ProcessOutcome, timeoutMs: number): string {
  if (o.timedOut) return `${what} killed after the timeout of ${timeoutMs} ms`;
  if (o.aborted) return `${what} killed: job aborted`;
  if (o.exitCode === null) return `${what} killed by ${o.signal ?? 'a signal'}`;
  return `${what} exited with code ${o.exitCode}`;
}

async function failSpecies(run: Run, species: string, reason: string): Promise<void> {
  run.speciesFailures[species] = reason;
  await run.report({ type: 'species-failed', species, reason });
}

/** Run an executable with stdout+stderr appended to `logFile` between header and footer lines. */
async function runLogged(
  run: Run,
  o: {
    logFile: string;
    header: string[];
    footer: (outcome: ProcessOutcome) => string[];
    command: string;
    args: string[];
    timeoutMs: number;
    env: NodeJS.ProcessEnv;
    killGraceMs: number;
    what: string;
    onSpawn: (pid: number) => Promise<void>;
  },
): Promise<ProcessOutcome & { tail: string[] }> {
  const jobDir = run.workDir as string;
  let fd: number;
  const headerText = o.header.map((l) => `${l}\n`).join('');
  try {
    // Header written synchronously BEFORE the child inherits the descriptor (O_APPEND): defect 19.
    fd = openSync(o.logFile, 'w');
    writeSync(fd, headerText);
  } catch (err) {
    throw new JobFailure('internal', `cannot write ${o.logFile}: ${describeError(err)}`, true, { cause: err });
  }
  let reportDone: Promise<void> = Promise.resolve();
  try {
    closeSync(fd);
    fd = openSync(o.logFile, 'a');
    let outcome: ProcessOutcome;
    try {
      outcome = await runProcess({
        command: o.command,
        args: o.args,
        cwd: jobDir,
        env: o.env,
        outputFd: fd,
        timeoutMs: o.timeoutMs,
        killGraceMs: o.killGraceMs,
        signal: run.deps.signal,
        onSpawn: (pid) => {
          reportDone = o.onSpawn(pid);
        },
      });
    } catch (err) {
      throw new JobFailure('setup', `cannot start ${o.what}: ${describeError(err)}`, false, { cause: err });
    }
    await reportDone;
    const failed = outcome.exitCode !== 0 && !outcome.aborted;
    const tail = failed ? lastOutputLines(o.logFile, Buffer.byteLength(headerText)) : [];
    writeSync(fd, o.footer(outcome).map((l) => `${l}\n`).join(''));
    return { ...outcome, tail };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

async function runOnion(
  run: Run,
  species: string,
  env: NodeJS.ProcessEnv,
  killGraceMs: number,
  structLocal: string,
  ctrlLocal: string,
): Promise<'done' | 'aborted'> {
  const { spec, sp } = run;
  const jobDir = run.workDir as string;
  const outDir = path.join(jobDir, 'onionoutput');
  const outputs = onionOutputFileNames(species);
  // set_oniondir: no stale outputs of an earlier run of this species
  for (const f of outputs) rmSync(path.join(outDir, f), { force: true });
  const input = path.join(jobDir, 'onioninpdata', `ONION3.INP.${species}`);
  // the input is a link into the base dir (often a shared filesystem): asynchronous calls
  if (!(await fs.stat(input).then((st) => st.isFile(), () => false))) {
    await failSpecies(run, species, `onion input ${path.join(spec.baseDir, 'onioninpdata', `ONION3.INP.${species}`)} not found`);
    return 'done';
  }
  try {
    await fs.copyFile(input, path.join(jobDir, 'ONION3.INP'));
    copyFileSync(ctrlLocal, path.join(jobDir, 'CTRL_IND'));
  } catch (err) {
    throw new JobFailure('internal', `preparing onion for ${species} failed: ${describeError(err)}`, true, { cause: err });
  }
  const textout = path.join(outDir, 'TEXTOUT');
  const o = await runLogged(run, {
    logFile: textout,
    header: [`Running onion for ${species}`],
    footer: (x) => [' ', describeExit(`onion for ${species}`, x, spec.timeouts.onionMs)],
    command: `./${spec.executables.onion}`,
    args: [structLocal],
    timeoutMs: spec.timeouts.onionMs,
    env,
    killGraceMs,
    what: `onion executable ${path.join(spec.baseDir, spec.executables.onion)}`,
    onSpawn: (pid) => run.report({ type: 'onion-started', species, pid }),
  });
  run.onionExit[species] = o.exitCode;
  await run.report({ type: 'onion-finished', species, exitCode: o.exitCode, signal: o.signal, timedOut: o.timedOut, durationMs: o.durationMs });
  if (o.aborted) return 'aborted';
  if (o.exitCode !== 0) await failSpecies(run, species, describeFailure('onion', o, spec.timeouts.onionMs));
  // copy_onionoutput: whatever exists, then this species' TEXTOUT (truncated by the next species). Moved
  // aside and stored with the PDR outputs at the end, so a store failure keeps every computed output.
  const files: Array<[string, string, string]> = [[onionRole(species, 'TEXTOUT'), textout, sp.onionTextout(species)]];
  for (const f of outputs) {
    const local = path.join(outDir, f);
    if (await isFile(local)) files.push([onionRole(species, f), local, sp.onionFile(f)]);
  }
  // beside the job directory's other files as `onionoutput.<species>.<file>`: no directories made and
  // removed per job (on ext4 every inode created and freed made the next creations slower, docs/benchmarks.md)
  try {
    for (const [role, local, rel] of files) {
      const kept = path.join(jobDir, `onionoutput.${species}.${path.basename(local)}`);
      renameSync(local, kept);
      run.collected.push([role, kept, rel]);
    }
  } catch (err) {
    throw new JobFailure('internal', `keeping the onion outputs of ${species} failed: ${describeError(err)}`, true, { cause: err });
  }
  return 'done';
}
