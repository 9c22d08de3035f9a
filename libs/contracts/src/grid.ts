import { z } from 'zod';
import { LIMITS } from './limits';
import { axisValue, id, installationId, isoDate, jobStatus, JOB_STATUSES, onionSpecies, point, safeName, schemaVersion } from './common';

/**
 * Where a grid's outputs are stored (DESIGN "Storage backends"); libs/storage builds the backend from it.
 * Carries no secret: a runner takes the SFTP password and key passphrase from its own environment
 * (PDR_STORAGE_PASSWORD, PDR_STORAGE_KEY_PASSPHRASE), rclone its remotes from the runner's rclone.conf or
 * RCLONE_CONFIG_* variables.
 */
export const storageSettings = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), baseDir: z.string().min(1).describe('absolute path as the runners see it') }),
  z.object({
    type: z.literal('sftp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    baseDir: z.string().min(1).describe('path on the server (relative paths: from the login directory)'),
    privateKeyFile: z.string().min(1).nullable().default(null).describe('private key file on the runner'),
    knownHostsFile: z.string().min(1).nullable().default(null).describe('known_hosts file on the runner (default ~/.ssh/known_hosts)'),
    hostKeyCheck: z.boolean().default(true).describe('false: any host key is accepted (logged at every connection)'),
  }),
  z.object({
    type: z.literal('rclone'),
    remote: z.string().min(1).describe("pdr_run's rclone_remote: `name:` or `name:base/path` (no secret parameters)"),
    baseDir: z.string().min(1),
    remotePathPrefix: z.string().min(1).nullable().default(null).describe('stripped from <baseDir>/<path> on a path boundary'),
  }),
]);
export type StorageSettings = z.infer<typeof storageSettings>;

/** How a runner runs the points of a grid. Carries no secret: runners take credentials from their own env. */
export const runOptions = z.object({
  baseDir: z.string().min(1).describe('absolute path of the KOSMA-tau base directory, as the runners see it'),
  pdrFileName: safeName,
  onionFileName: safeName,
  chemDatabase: safeName.describe('file name in <baseDir>/pdrinpdata'),
  pdrinpTemplateFile: safeName.default('PDRNEW.INP.template'),
  jsonTemplateFile: safeName.default('pdr_config.json.template'),
  jsonTemplateOverride: z.string().min(1).nullable().default(null).describe('absolute path of a user JSON template (--json-template)'),
  storage: storageSettings,
  forceOnion: z.boolean().default(false),
  keepTmp: z.boolean().default(false),
  jsonOnly: z
    .boolean()
    .optional()
    .describe('the user runs from pdr_config.json alone: a missing PDRNEW template is not an error (absent = false; absent keeps the request hash of older grids)'),
  timeouts: z.object({
    pdrMs: z.number().int().positive(),
    onionMs: z.number().int().positive(),
  }),
});
export type RunOptions = z.infer<typeof runOptions>;

/** Physics shared by all points of a grid; with a point it determines the kosmatau_parameters row. */
export const physics = z.object({
  alpha: z.number(),
  rcore: z.number(),
  chemistry: z.string().min(1).describe('whitespace-separated chemistry species (kosmatau_parameters.species)'),
  nonDefault: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
});
export type Physics = z.infer<typeof physics>;

/** state.grid.upsert: the grid row and the rows it hangs on (model name, user, chemistry DB). Idempotent. */
export const gridUpsertRequest = z.object({
  v: schemaVersion,
  modelName: safeName,
  modelPath: z.string().min(1).describe('<storage base>/<model name>, as pdr_run stores it'),
  description: z.string().max(1000).nullable().default(null),
  requestHash: z.string().regex(/^[0-9a-f]{64}$/).describe('canonical hash of everything that defines the grid'),
  user: z.object({ username: z.string().min(1).max(255), email: z.string().min(1).max(255) }),
  chemicalDatabase: z.object({ fileName: safeName, fullPath: z.string().min(1), origin: z.string().max(50).nullable() }),
  physics,
  onionSpecies: z.array(onionSpecies).min(1),
  run: runOptions,
  pointCount: z.number().int().nonnegative(),
  seed: z.number().int().nullable().default(null).describe('seed of a random grid, so it can be reproduced'),
});
export type GridUpsertRequest = z.infer<typeof gridUpsertRequest>;
export const gridUpsertReply = z.object({ gridId: id, modelNameId: id, created: z.boolean(), installationId });
export type GridUpsertReply = z.infer<typeof gridUpsertReply>;

/** Most points in one state.points.upsert request (a 10k grid fits in one; larger grids are batched). */
export const MAX_POINTS_PER_BATCH = 10_000;

/**
 * state.points.upsert: persist a batch of points of a grid (parameter row + job per point; existing ones reused).
 * State builds each row from the grid's physics with the domain library, so a point travels as 4 strings.
 * Reply: one entry per point, in request order.
 */
export const pointsUpsertRequest = z.object({
  v: schemaVersion,
  gridId: id,
  points: z.array(point).min(1).max(MAX_POINTS_PER_BATCH),
  retryFailed: z.boolean().default(false).describe('failed/problem points go back to pending with a new generation'),
});
export type PointsUpsertRequest = z.infer<typeof pointsUpsertRequest>;
/** [jobId, status, generation, created] per point. */
export const pointResult = z.tuple([id, jobStatus, z.number().int().nonnegative(), z.boolean()]);
export const pointsUpsertReply = z.object({ jobs: z.array(pointResult) });
export type PointsUpsertReply = z.infer<typeof pointsUpsertReply>;

/** state.jobs.mark-queued: pending → queued once their job events are in the stream. */
export const markQueuedRequest = z.object({ v: schemaVersion, jobIds: z.array(id).min(1).max(MAX_POINTS_PER_BATCH) });
export const markQueuedReply = z.object({ updated: z.number().int().nonnegative() });

/** Selects a grid: by id, or the latest grid of a model name. */
export const gridSelector = z
  .object({ gridId: id.optional(), modelName: safeName.optional() })
  .refine((s) => (s.gridId === undefined) !== (s.modelName === undefined), { message: 'give exactly one of gridId or modelName' });

export const statusCounts = z.object(Object.fromEntries(JOB_STATUSES.map((s) => [s, z.number().int().nonnegative()])) as Record<
  (typeof JOB_STATUSES)[number],
  z.ZodNumber
>);
export type StatusCounts = z.infer<typeof statusCounts>;

export const gridSummary = z.object({
  gridId: id,
  modelName: z.string(),
  modelPath: z.string(),
  createdAt: isoDate,
  total: z.number().int().nonnegative(),
  counts: statusCounts,
  firstStartedAt: isoDate
    .nullable()
    .describe('earliest start recorded for the grid\'s jobs; kept when a job is run again (a grid sharing points with another: the earliest start its member jobs hold now)'),
  lastFinishedAt: isoDate.nullable().describe('latest finish recorded for the grid\'s jobs (a grid sharing points with another: the latest its member jobs hold now)'),
  cancelRequested: z.boolean(),
  seed: z.number().int().nullable(),
  requestHash: z
    .string()
    .optional()
    .describe('hash of everything that defines the grid: two grids of one model with different hashes were submitted with different configs'),
  user: z.string().nullable().optional().describe('username of who submitted it'),
});
export type GridSummary = z.infer<typeof gridSummary>;

/** state.grid.status */
export const gridStatusRequest = z.object({ v: schemaVersion, selector: gridSelector });
export const gridStatusReply = z.object({ grid: gridSummary });

/** state.grids.list: most recent first. */
export const gridListRequest = z.object({ v: schemaVersion, limit: z.number().int().min(1).max(1000).default(50) });
export const gridListReply = z.object({ grids: z.array(gridSummary) });

/** state.grid.cancel: pending/queued → cancelled; running ones flagged (killed by their runner when kill). */
export const gridCancelRequest = z.object({ v: schemaVersion, selector: gridSelector, kill: z.boolean().default(false) });
export const gridCancelReply = z.object({ gridId: id, cancelled: z.number().int().nonnegative(), runningFlagged: z.number().int().nonnegative() });

/** state.grid.retry: failed/problem (and cancelled with includeCancelled) → pending with a new generation. */
export const gridRetryRequest = z.object({ v: schemaVersion, selector: gridSelector, includeCancelled: z.boolean().default(false) });
/** jobs to publish again: [jobId, generation]. */
export const gridRetryReply = z.object({ gridId: id, installationId, jobs: z.array(z.tuple([id, z.number().int().nonnegative()])) });

/**
 * Most points in one state.grid.map reply: about 40 bytes each (id, job name, three small numbers), so a
 * page stays far below NATS' 1 MiB max_payload even with long job names; a 10^5-point grid is 10 pages.
 */
export const MAX_MAP_POINTS = 10_000;

/** state.grid.map: the points of a grid in compact columns, keyset-paged by job id (for maps of the parameter space). */
export const gridMapRequest = z.object({
  v: schemaVersion,
  gridId: id,
  afterId: z.number().int().nonnegative().default(0),
  limit: z.number().int().min(1).max(MAX_MAP_POINTS).default(MAX_MAP_POINTS),
});
/**
 * One entry per point in each column, ascending job id. `names` are job names (`<metal>_<dens>_<mass>_<chi>_00`,
 * which carry the point's axis strings), `status` indexes JOB_STATUSES, `ms` is the execution time (null
 * before a run ended). `nextAfterId` is null on the last page.
 */
export const gridMapReply = z
  .object({
    ids: z.array(id),
    names: z.array(z.string()),
    status: z.array(z.number().int().min(0).max(JOB_STATUSES.length - 1)),
    attempts: z.array(z.number().int().nonnegative()),
    ms: z.array(z.number().int().nonnegative().nullable()),
    nextAfterId: z.number().int().nullable(),
  })
  .refine((r) => [r.names, r.status, r.attempts, r.ms].every((c) => c.length === r.ids.length), { message: 'every column has one entry per point' });
export type GridMapReply = z.infer<typeof gridMapReply>;

// ---------------------------------------------------------------- planner (what the CLI talks to)

/** A grid request as a user states it (after config/flags are merged by the CLI). */
export const gridRequest = z.object({
  modelName: safeName,
  description: z.string().max(1000).nullable().default(null),
  axes: z.object({
    metal: z.array(axisValue).min(1),
    dens: z.array(axisValue).min(1),
    mass: z.array(axisValue).min(1),
    chi: z.array(axisValue).min(1),
  }),
  mode: z.enum(['grid', 'single']).default('grid'),
  random: z.object({ count: z.number().int().positive(), seed: z.number().int().nonnegative() }).nullable().default(null),
  user: z.object({ username: z.string().min(1).max(255), email: z.string().min(1).max(255) }),
  chemOrigin: z.string().max(50).nullable().default(null),
  physics,
  onionSpecies: z.array(onionSpecies).min(1),
  run: runOptions,
});
export type GridRequest = z.infer<typeof gridRequest>;

/** planner.grid.submit */
export const gridSubmitRequest = z.object({
  v: schemaVersion,
  request: gridRequest,
  retryFailed: z.boolean().default(false),
  maxPoints: z.number().int().positive().default(LIMITS.MAX_GRID_POINTS).describe('refuse grids larger than this'),
});
export type GridSubmitRequest = z.infer<typeof gridSubmitRequest>;
export const gridSubmitReply = z.object({
  gridId: id,
  modelName: z.string(),
  total: z.number().int().nonnegative(),
  created: z.number().int().nonnegative().describe('points new to the database'),
  alreadyDone: z.number().int().nonnegative().describe('finished or skipped before: not run again'),
  queued: z.number().int().nonnegative().describe('points waiting in the job queue (their events published now or by an earlier submission)'),
  inProgress: z.number().int().nonnegative().describe('running right now: left alone'),
  notRetried: z.number().int().nonnegative().describe('failed/problem/cancelled points left alone (use --retry-failed)'),
  seed: z.number().int().nullable(),
});
export type GridSubmitReply = z.infer<typeof gridSubmitReply>;

/** planner.grid.cancel */
export const plannerCancelRequest = gridCancelRequest;
export const plannerCancelReply = gridCancelReply;

/** planner.grid.retry: re-queues failed points. */
export const plannerRetryRequest = gridRetryRequest;
export const plannerRetryReply = z.object({ gridId: id, queued: z.number().int().nonnegative() });
