import { z } from 'zod';
import { id, installationId, isoDate, schemaVersion } from './common';
import { MAX_POINTS_PER_BATCH } from './grid';

/**
 * Dispatch: getting the jobs the database says are pending/queued into the job stream. The planner is
 * the one publisher of job events (DESIGN "Delivery and idempotency"); state tells it what to publish.
 */

const generation = z.number().int().nonnegative();
/** A job to publish: [jobId, gridId, generation]. */
export const dispatchJob = z.tuple([id, id, generation]);
export type DispatchJob = z.infer<typeof dispatchJob>;

/** Jobs to publish, with the installation id of the database they belong to (part of each event's id). */
export const dispatchBatch = z.object({ installationId, jobs: z.array(dispatchJob).max(MAX_POINTS_PER_BATCH) });
export type DispatchBatch = z.infer<typeof dispatchBatch>;

/** state.jobs.take-stale-pending: pending jobs untouched for olderThanMs (their publisher died), touched so no other sweep takes them too. */
export const takeStalePendingRequest = z.object({
  v: schemaVersion,
  olderThanMs: z.number().int().positive(),
  limit: z.number().int().min(1).max(MAX_POINTS_PER_BATCH).default(1000),
});

/** state.jobs.outstanding: how many jobs are queued and running, and one page of the queued ones (by id). */
export const outstandingJobsRequest = z.object({
  v: schemaVersion,
  afterId: z.number().int().nonnegative().default(0),
  limit: z.number().int().min(0).max(MAX_POINTS_PER_BATCH).default(0),
});
export const outstandingJobsReply = z.object({
  installationId,
  /** The database's clock when it counted: a job queued before it must have an event in the stream by now. */
  now: isoDate,
  queued: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  /** Queued jobs with id > afterId, at most `limit`, each with when it was queued. */
  jobs: z.array(z.tuple([id, id, generation, isoDate])),
});

/**
 * state.jobs.redispatch: of `jobIds`, those still pending, or queued since before `queuedBefore`, get a
 * new generation and go back to pending; the reply lists them to be published. Used when an event is
 * known lost (not in the stream) or was swallowed as a duplicate: the new generation gives the new event
 * an id no duplicate window can hold, and any old copy of the event loses the claim.
 */
export const redispatchRequest = z.object({
  v: schemaVersion,
  jobIds: z.array(id).min(1).max(MAX_POINTS_PER_BATCH),
  queuedBefore: isoDate.optional().describe('by the database clock; absent: however recently queued (the caller knows the event is gone)'),
  reason: z.string().min(1).max(200),
});

/** planner.jobs.dispatch: publish these jobs' events and mark them queued (the reconciler's requeued jobs). */
export const plannerDispatchRequest = dispatchBatch.extend({ v: schemaVersion });
export const plannerDispatchReply = z.object({ queued: z.number().int().nonnegative() });
