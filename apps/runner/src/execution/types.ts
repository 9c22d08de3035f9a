import type { StoredFile } from '@pdr/storage';

/** Everything needed to run ONE job; inputs are already rendered by the caller. */
export interface JobRunSpec {
  /** Stable key of the grid point (used in events only). */
  jobKey: string;
  /** Attempt number (part of the job directory name). */
  attempt: number;
  modelName: string;
  /** pdr_run job name, e.g. `100_30_-10_10_00`. */
  jobName: string;
  /** Absolute KOSMA-tau base directory (executables, pdrinpdata/, onioninpdata/, In/, templates/). */
  baseDir: string;
  /** Absolute root of job directories: `<workRoot>/<modelName>/<jobName>.<attempt>-<random>`. */
  workRoot: string;
  /** Executable file names inside `baseDir`. */
  executables: { pdr: string; onion: string };
  /** Chemistry file name inside `baseDir/pdrinpdata` (linked as `pdrinpdata/chem_rates.dat`). */
  chemDatabase: string;
  /** Onion species, in order. */
  species: string[];
  /** Rendered `PDRNEW.INP` and `pdr_config.json`; null = not written. */
  inputs: { pdrnewInp: string | null; pdrConfigJson: string | null };
  timeouts: { pdrMs: number; onionMs: number };
  /** Keep the job directory after the run (also on failure). */
  keepTmp: boolean;
  /** Run onion even when the PDR outputs are already stored (restoring them from storage). */
  forceOnion: boolean;
  /** Extra environment variables for the executables (over the runner's own environment). */
  env?: Record<string, string>;
  /** Time between SIGTERM and SIGKILL when a run is stopped (timeout, abort). Default 10 000 ms. */
  killGraceMs?: number;
  /**
   * The files the database recorded for this job when an earlier attempt stored them, by role: the "already
   * stored" check compares the storage's size with them (and keeps their sha256) instead of reading back.
   */
  recorded?: Record<string, { relPath: string; size: number; sha256: string }>;
  /** Where an earlier attempt (maybe on another runner) kept the outputs after its store failed. */
  quarantine?: { dir: string; host: string } | null;
}

// A type alias (not an interface) so events are assignable to Record<string, unknown>.
type StepEventBase = {
  jobKey: string;
  attempt: number;
  at: Date;
};

/** Progress of one job, reported as it happens (DESIGN: the runner reports each step to state). */
export type StepEvent = StepEventBase &
  (
    | { type: 'outputs-exist'; forceOnion: boolean; files: number }
    | { type: 'setup-finished'; workDir: string }
    | { type: 'pdr-started'; pid: number; executable: string }
    | { type: 'pdr-finished'; exitCode: number | null; signal: string | null; timedOut: boolean; durationMs: number }
    | { type: 'onion-started'; species: string; pid: number }
    | { type: 'onion-finished'; species: string; exitCode: number | null; signal: string | null; timedOut: boolean; durationMs: number }
    | { type: 'species-failed'; species: string; reason: string }
    | { type: 'outputs-stored'; files: number; bytes: number }
    | { type: 'outputs-restored'; from: string; files: number; bytes: number }
    | { type: 'outputs-quarantined'; dir: string; host: string }
  );

export type JobRunStatus = 'finished' | 'problem' | 'failed' | 'skipped' | 'aborted';

/**
 * Why a job failed: `input` (bad spec, missing chemistry file), `setup` (missing/unusable executable),
 * `timeout` (PDR killed after `timeouts.pdrMs`), `storage` (a store/retrieve/exists failed),
 * `internal` (job directory or tarball could not be made).
 */
export type FailureKind = 'input' | 'setup' | 'timeout' | 'storage' | 'internal';

/** Roles of stored files: the contract's (libs/contracts job.ts, `fileRole`). */
export type { FileRole, PdrFileRole } from '@pdr/contracts';

export interface JobRunResult {
  status: JobRunStatus;
  /** Human-readable reason for anything but `finished`/`skipped`. */
  reason?: string;
  /** Set for `failed`. */
  failure?: FailureKind;
  /** For `failed`: true when retrying later may succeed (storage, I/O), false when it cannot. */
  transient?: boolean;
  /** `pdr` is absent when PDR was not run (skip / force-onion); null = killed or not started. */
  exitCodes: { pdr?: number | null; onion: Record<string, number | null> };
  /** Species whose onion step did not succeed, with the reason. */
  speciesFailures: Record<string, string>;
  /** Files actually stored (or, when skipped, found in storage), keyed by role. */
  files: Record<string, StoredFile>;
  startedAt: Date;
  finishedAt: Date;
  executionMs: number;
  /** The job directory, or null when none was created (skip, invalid spec). */
  workDir: string | null;
  /** True when the job directory still exists (keepTmp). */
  workDirKept: boolean;
  /** Non-fatal problems (a report callback that threw, a missing optional input dir, …). */
  warnings: string[];
}

export interface JobRunDeps {
  storage: import('@pdr/storage').StorageBackend;
  /** Called for each step; a rejection is recorded in `warnings` and never stops the job. */
  report: (event: StepEvent) => Promise<void>;
  /** Abort → running executable killed (SIGTERM, then SIGKILL), result `aborted`. */
  signal?: AbortSignal;
  now?: () => Date;
  /**
   * Called once when the executables are done and the outputs are about to be stored: the slot will be
   * free within the store's time, so the runner may claim its next job now (claim-ahead, JobConsumer).
   */
  onStoring?: () => void;
  /** Job directories kept for the next job (one per slot); without it each job's directory is removed. */
  jobDirs?: import('./job-dir').JobDirPool;
  /** The base dir's checks and listings, started before the job got its slot (readBaseDir). */
  baseDirReads?: import('./job-dir').BaseDirReads;
}
