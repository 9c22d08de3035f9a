import { z } from 'zod';
import { id, isoDate, jobStatus, schemaVersion } from './common';

/** Published by state after every status change (plain NATS: informational, may be missed; query for truth). */
export const progressEvent = z.object({
  v: schemaVersion,
  gridId: id.nullable(),
  jobId: id,
  jobName: z.string(),
  status: jobStatus,
  attempt: z.number().int().nonnegative(),
  reason: z.string().nullable(),
  at: isoDate,
  executionMs: z.number().int().nonnegative().nullable().optional().describe('run time of the attempt that ended (null before)'),
});
export type ProgressEvent = z.infer<typeof progressEvent>;

/** Published by state when a grid is cancelled: runners drop its events and kill running jobs when asked. */
export const gridCancelledEvent = z.object({ v: schemaVersion, gridId: id, kill: z.boolean(), at: isoDate });

/** health.ping: every service instance answers (a broadcast; collect replies for a short while). */
export const SERVICES = ['state', 'planner', 'runner'] as const;
export const healthPingRequest = z.object({ v: schemaVersion });
export const healthPingReply = z.object({
  service: z.enum(SERVICES),
  instanceId: z.string(),
  version: z.string(),
  startedAt: isoDate,
  detail: z.record(z.string(), z.unknown()).default({}),
});
export type HealthPingReply = z.infer<typeof healthPingReply>;
