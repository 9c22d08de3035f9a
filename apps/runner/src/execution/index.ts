export { runJob, onionRole, pdrRolePaths, REQUIRED_PDR_ROLES } from './run-job';
export { runProcess, type ProcessOutcome, type ProcessRunOptions } from './process-runner';
export type { FailureKind, JobRunDeps, JobRunResult, JobRunSpec, JobRunStatus, PdrFileRole, StepEvent } from './types';
export { JobDirPool, readBaseDir, type BaseDirReads } from './job-dir';
