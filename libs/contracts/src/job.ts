import { z } from 'zod';
import { id, installationId, isoDate, jobStatus, ONION_SPECIES_MAX, parameterRow, safeName, schemaVersion, sha256 } from './common';
import { runOptions } from './grid';

/** The event the planner publishes to the job stream, one per point; Nats-Msg-Id = jobMsgId(event). */
export const jobEvent = z.object({
  v: schemaVersion,
  jobId: id,
  gridId: id,
  generation: z
    .number()
    .int()
    .nonnegative()
    .describe('bumped on every retry and whenever a lost event is published again, so the new event has a new id and an old copy loses the claim'),
  db: installationId.optional().describe('installation id of the database the job belongs to; a claim from another database is refused (absent in events of older versions)'),
});
export type JobEvent = z.infer<typeof jobEvent>;
/**
 * Nats-Msg-Id of a job event: unique per database (installation id), job and generation. Job ids alone
 * repeat across databases (a new database, a test database behind the same namespace), and JetStream
 * silently drops a repeated id within its duplicate window.
 */
export function jobMsgId(ev: Pick<JobEvent, 'jobId' | 'generation' | 'db'>): string {
  return `job-${ev.db ?? 'nodb'}-${ev.jobId}-g${ev.generation}`;
}

const runnerRef = z.object({ runnerId: z.string().min(1).max(200) });

/**
 * state.job.claim: compare-and-set pending|queued (or running with a dead heartbeat) → running, attempt + 1.
 * `granted: false` means someone else has it, it was cancelled, it is already done or the event is stale:
 * the runner acks and does nothing.
 */
export const jobClaimRequest = runnerRef.extend({
  v: schemaVersion,
  jobId: id,
  generation: z.number().int().nonnegative(),
  delivery: z.number().int().positive().describe('JetStream delivery count of the event'),
  db: installationId.optional().describe("the event's installation id: a job event of another database is refused"),
});
export type JobClaimRequest = z.infer<typeof jobClaimRequest>;
/** A file recorded in job_files when an earlier attempt stored it (what the claim tells the runner). */
export const recordedFile = z.object({
  role: z.string().min(1).max(200),
  relPath: z.string().min(1).max(1000),
  size: z.number().int().nonnegative(),
  sha256,
});
/** Where an earlier attempt kept the job's outputs after its store failed (its `outputs-quarantined` step). */
export const quarantineRef = z.object({
  dir: z.string().min(1).max(2000).describe("absolute path of the quarantine folder on that runner's machine"),
  host: z.string().min(1).max(255).describe('hostname of that machine'),
  runnerId: z.string().min(1).max(200),
});
export const claimedJob = z.object({
  jobId: id,
  attempt: z.number().int().positive(),
  gridId: id,
  modelName: z.string(),
  modelPath: z.string(),
  jobName: z.string(),
  parameters: parameterRow.describe('the kosmatau_parameters row (columns → values)'),
  onionSpecies: z.array(safeName),
  run: runOptions,
  recordedFiles: z
    .array(recordedFile)
    .max(500)
    .default([])
    .describe('the files job_files records for this job: the "already stored" check compares storage with their size (and keeps their sha256) instead of reading every file back'),
  quarantine: quarantineRef
    .nullable()
    .default(null)
    .describe('outputs of an earlier attempt kept after a failed store and not yet stored: a runner that can reach the folder stores them instead of running PDR'),
});
export type ClaimedJob = z.infer<typeof claimedJob>;
export const jobClaimReply = z.discriminatedUnion('granted', [
  z.object({ granted: z.literal(true), job: claimedJob }),
  z.object({ granted: z.literal(false), reason: z.string(), status: jobStatus }),
]);
export type JobClaimReply = z.infer<typeof jobClaimReply>;

const attemptRef = runnerRef.extend({ v: schemaVersion, jobId: id, attempt: z.number().int().positive() });

/** state.job.heartbeat: the runner is alive; the reply says whether the user asked to kill the job. */
export const jobHeartbeatRequest = attemptRef;
export const jobHeartbeatReply = z.object({ alive: z.boolean().describe('false: this attempt no longer owns the job'), cancel: z.boolean() });

/** Most running attempts one state.jobs.heartbeat request carries (a runner with more slots sends several). */
export const MAX_HEARTBEATS_PER_REQUEST = 1000;
/**
 * state.jobs.heartbeat: every running attempt of one runner is alive, in one request per heartbeat interval
 * (instead of one state.job.heartbeat per attempt: the load on state is then linear in runners, not in
 * slots — docs/benchmarks.md, capacity model). The reply lists, per attempt, what state.job.heartbeat's
 * reply says for one.
 */
export const jobsHeartbeatRequest = runnerRef.extend({
  v: schemaVersion,
  attempts: z.array(z.object({ jobId: id, attempt: z.number().int().positive() })).min(1).max(MAX_HEARTBEATS_PER_REQUEST),
});
export const jobsHeartbeatReply = z.object({
  jobs: z.array(z.object({ jobId: id, attempt: z.number().int().positive(), alive: z.boolean(), cancel: z.boolean() })),
});

/** Most steps one state.job.step request carries (a job with every species failing reports ~2 per species). */
export const MAX_STEPS_PER_REPORT = 100;
export const jobStep = z.object({
  step: z.string().min(1).max(100),
  detail: z.record(z.string(), z.unknown()).default({}),
  at: isoDate.describe("when the step happened, by the runner's clock"),
});
/**
 * state.job.step: steps of an attempt (pdr started/finished, onion per species, storing), in the order they
 * happened, kept in the history. A runner sends the steps that have waited a moment (STEP_REPORT_DELAY_MS);
 * those still waiting when the attempt ends travel with its state.job.finish.
 */
export const jobStepRequest = attemptRef.extend({
  steps: z.array(jobStep).min(1).max(MAX_STEPS_PER_REPORT),
});
export type JobStepInfo = z.infer<typeof jobStep>;
export const okReply = z.object({ ok: z.literal(true) });

/**
 * What a stored file of a job is (job_files.role, and the key of a result's files): the PDR files in
 * pdr_run's set (SPEC §5.10), each once per job, and the onion files as `onion:<species>:<file>`
 * (`TEXTOUT` for a species' log). The runner names files by these, state maps them to pdr_run's columns.
 */
export const PDR_FILE_ROLES = ['hdf4', 'hdf5_struct', 'hdf5_chem', 'textout', 'chemchk', 'mcdrt', 'pdrnew', 'json', 'ctrl_ind'] as const;
export const pdrFileRole = z.enum(PDR_FILE_ROLES);
export type PdrFileRole = z.infer<typeof pdrFileRole>;
export const onionFileRole = z.templateLiteral(['onion:', z.string().min(1).max(ONION_SPECIES_MAX), ':', z.string().min(1).max(110)]);
export type OnionFileRole = z.infer<typeof onionFileRole>;
/** The role of an onion file: `onion:<species>:<file>`. */
export const onionRole = (species: string, file: string): OnionFileRole => `onion:${species}:${file}`;
export const fileRole = z.union([pdrFileRole, onionFileRole]);
export type FileRole = z.infer<typeof fileRole>;

export const storedFile = z.object({
  role: fileRole,
  fileName: z.string().min(1).max(255),
  relPath: z.string().min(1).max(1000),
  fullPath: z.string().min(1).max(2000),
  size: z.number().int().nonnegative(),
  mtime: isoDate,
  sha256,
});
export type StoredFileInfo = z.infer<typeof storedFile>;

/** Executables of an attempt with their provenance (recorded once per grid and executable). */
export const executableInfo = z.object({
  role: z.enum(['pdr', 'onion']),
  fileName: z.string().min(1).max(255),
  fullPath: z.string().min(1).max(2000),
  sha256: sha256.nullable(),
  revision: z.string().max(50).nullable(),
  compilationDate: isoDate.nullable(),
  reasons: z.array(z.string()).default([]),
});
export type ExecutableInfo = z.infer<typeof executableInfo>;

/** state.job.finish: compare-and-set running(attempt) → outcome, with the stored files. */
export const FINISH_STATUSES = ['finished', 'problem', 'failed', 'skipped', 'cancelled'] as const;
export const jobFinishRequest = attemptRef.extend({
  status: z.enum(FINISH_STATUSES),
  reason: z.string().max(4000).nullable().default(null),
  startedAt: isoDate,
  finishedAt: isoDate,
  executionMs: z.number().int().nonnegative(),
  exitCodes: z.object({ pdr: z.number().int().nullable(), onion: z.record(z.string(), z.number().int().nullable()) }),
  files: z.array(storedFile).max(500),
  executables: z.array(executableInfo).max(10).default([]),
  steps: z.array(jobStep).max(MAX_STEPS_PER_REPORT).default([]).describe('steps not yet reported, recorded with the outcome (before it)'),
});
export type JobFinishRequest = z.infer<typeof jobFinishRequest>;

/** state.job.release: running(attempt) → queued, e.g. on SIGTERM, so another runner takes the redelivery. */
export const jobReleaseRequest = attemptRef.extend({ reason: z.string().max(1000) });

/**
 * state.job.abandon: any non-terminal → failed with the reason, for deliveries past max_deliver or an event
 * that can never run. Needs no claim.
 */
export const jobAbandonRequest = runnerRef.extend({ v: schemaVersion, jobId: id, reason: z.string().min(1).max(4000) });
export const transitionReply = z.object({ applied: z.boolean(), status: jobStatus });

// ---------------------------------------------------------------- queries

export const jobRow = z.object({
  jobId: id,
  gridId: id.nullable(),
  modelName: z.string(),
  jobName: z.string(),
  status: jobStatus,
  attempt: z.number().int().nonnegative(),
  generation: z.number().int().nonnegative(),
  reason: z.string().nullable(),
  timeOfStart: isoDate.nullable(),
  timeOfFinish: isoDate.nullable(),
  executionMs: z.number().int().nullable(),
  heartbeatAt: isoDate.nullable(),
  runnerId: z.string().nullable(),
  outputDirectory: z.string().nullable(),
  parameters: parameterRow.optional(),
  files: z.array(storedFile).optional(),
});
export type JobRow = z.infer<typeof jobRow>;

/** state.jobs.query: filters and keyset paging (afterId). */
export const jobsQueryRequest = z.object({
  v: schemaVersion,
  gridId: id.optional(),
  modelName: z.string().optional(),
  status: z.array(jobStatus).optional(),
  afterId: z.number().int().nonnegative().default(0),
  limit: z.number().int().min(1).max(5000).default(100),
  withParameters: z.boolean().default(false),
  withFiles: z.boolean().default(false),
});
export type JobsQueryRequest = z.infer<typeof jobsQueryRequest>;
export const jobsQueryReply = z.object({ jobs: z.array(jobRow), nextAfterId: z.number().int().nullable() });

/**
 * state.job.get: one job with its attempt history. By id, or by job name (the latest job of that name,
 * optionally within one model name): `pdr show 100_30_-10_10_00`.
 */
export const jobGetRequest = z
  .object({
    v: schemaVersion,
    jobId: id.optional(),
    jobName: safeName.optional().describe('pdr_run job name <metal>_<dens>_<mass>_<chi>_00: the latest job of that name'),
    modelName: safeName.optional().describe('with jobName: only jobs of this model name'),
  })
  .refine((r) => (r.jobId === undefined) !== (r.jobName === undefined), { message: 'give exactly one of jobId and jobName' });
export const attemptExitCodes = z.object({ pdr: z.number().int().nullable(), onion: z.record(z.string(), z.number().int().nullable()) });
export const jobAttempt = z.object({
  attempt: z.number().int().positive(),
  generation: z.number().int().nonnegative().optional(),
  runnerId: z.string().nullable(),
  status: jobStatus,
  reason: z.string().nullable(),
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  exitCodes: attemptExitCodes.nullable().optional().describe('exit codes of PDR and each onion run, once the attempt reported its outcome'),
  steps: z.array(z.object({ step: z.string(), at: isoDate, detail: z.unknown() })),
});
export const jobGetReply = z.object({
  job: jobRow,
  attempts: z.array(jobAttempt),
  grid: z
    .object({ storage: runOptions.shape.storage, keepTmp: z.boolean(), onionSpecies: z.array(z.string()) })
    .nullable()
    .optional()
    .describe("the job's grid: where its files are stored (read them through that storage backend), whether job directories are kept"),
  sameName: z.number().int().nonnegative().optional().describe('by jobName: how many jobs have that name (other models); the latest is shown'),
});
