import { z } from 'zod';
import * as G from './grid';
import * as J from './job';
import * as E from './events';
import * as D from './dispatch';
import * as L from './legacy';
import * as X from './estimate';

/**
 * Every request/reply subject of the system: its subject suffix, who answers, request and reply schemas.
 * The full subject is `<namespace>.<suffix>`; the namespace (default "pdr", env PDR_NATS_PREFIX) lets tests
 * and several installations share one NATS server without hearing each other.
 */
export interface RpcDef<Req extends z.ZodTypeAny = z.ZodTypeAny, Rep extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly suffix: string;
  readonly answeredBy: 'state' | 'planner' | 'all';
  readonly publishedBy: string;
  readonly request: Req;
  readonly reply: Rep;
  readonly description: string;
}

function rpc<Req extends z.ZodTypeAny, Rep extends z.ZodTypeAny>(d: RpcDef<Req, Rep>): RpcDef<Req, Rep> {
  return d;
}

export const RPC = {
  gridUpsert: rpc({ suffix: 'state.grid.upsert', answeredBy: 'state', publishedBy: 'planner', request: G.gridUpsertRequest, reply: G.gridUpsertReply, description: 'get-or-create a grid and its model name, user and chemistry rows' }),
  pointsUpsert: rpc({ suffix: 'state.points.upsert', answeredBy: 'state', publishedBy: 'planner', request: G.pointsUpsertRequest, reply: G.pointsUpsertReply, description: 'persist a batch of points (parameter rows + jobs), existing ones reused' }),
  markQueued: rpc({ suffix: 'state.jobs.mark-queued', answeredBy: 'state', publishedBy: 'planner', request: G.markQueuedRequest, reply: G.markQueuedReply, description: 'pending → queued after the job events are in the stream' }),
  gridStatus: rpc({ suffix: 'state.grid.status', answeredBy: 'state', publishedBy: 'cli', request: G.gridStatusRequest, reply: G.gridStatusReply, description: 'status counts of a grid (read from grid_counts, kept by triggers in the database)' }),
  gridList: rpc({ suffix: 'state.grids.list', answeredBy: 'state', publishedBy: 'cli', request: G.gridListRequest, reply: G.gridListReply, description: 'recent grids with their counts' }),
  gridMap: rpc({ suffix: 'state.grid.map', answeredBy: 'state', publishedBy: 'web', request: G.gridMapRequest, reply: G.gridMapReply, description: 'the points of a grid in compact columns (status, attempts, run time), paged: for parameter-space maps' }),
  gridCancel: rpc({ suffix: 'state.grid.cancel', answeredBy: 'state', publishedBy: 'planner', request: G.gridCancelRequest, reply: G.gridCancelReply, description: 'cancel the unfinished points of a grid' }),
  gridRetry: rpc({ suffix: 'state.grid.retry', answeredBy: 'state', publishedBy: 'planner', request: G.gridRetryRequest, reply: G.gridRetryReply, description: 'failed points back to pending with a new generation' }),
  jobClaim: rpc({ suffix: 'state.job.claim', answeredBy: 'state', publishedBy: 'runner', request: J.jobClaimRequest, reply: J.jobClaimReply, description: 'compare-and-set claim of a job for one attempt' }),
  jobHeartbeat: rpc({ suffix: 'state.job.heartbeat', answeredBy: 'state', publishedBy: 'runner', request: J.jobHeartbeatRequest, reply: J.jobHeartbeatReply, description: 'the attempt is alive; reply says whether to kill it' }),
  jobsHeartbeat: rpc({ suffix: 'state.jobs.heartbeat', answeredBy: 'state', publishedBy: 'runner', request: J.jobsHeartbeatRequest, reply: J.jobsHeartbeatReply, description: 'all running attempts of a runner are alive, in one request; reply says per attempt whether to kill it' }),
  jobStep: rpc({ suffix: 'state.job.step', answeredBy: 'state', publishedBy: 'runner', request: J.jobStepRequest, reply: J.okReply, description: 'record steps of an attempt in its history, in order' }),
  jobFinish: rpc({ suffix: 'state.job.finish', answeredBy: 'state', publishedBy: 'runner', request: J.jobFinishRequest, reply: J.transitionReply, description: 'record the outcome of an attempt with its stored files' }),
  jobRelease: rpc({ suffix: 'state.job.release', answeredBy: 'state', publishedBy: 'runner', request: J.jobReleaseRequest, reply: J.transitionReply, description: 'give a running job back (graceful shutdown)' }),
  jobAbandon: rpc({ suffix: 'state.job.abandon', answeredBy: 'state', publishedBy: 'runner', request: J.jobAbandonRequest, reply: J.transitionReply, description: 'mark a job failed that can never run (max_deliver exceeded, bad event)' }),
  jobsEstimate: rpc({ suffix: 'state.jobs.estimate', answeredBy: 'state', publishedBy: 'runner', request: X.jobsEstimateRequest, reply: X.jobsEstimateReply, description: 'expected duration of a job per grid (measured, else timeouts), for walltime-aware runners' }),
  jobsQuery: rpc({ suffix: 'state.jobs.query', answeredBy: 'state', publishedBy: 'cli', request: J.jobsQueryRequest, reply: J.jobsQueryReply, description: 'jobs with filters and keyset paging' }),
  jobGet: rpc({ suffix: 'state.job.get', answeredBy: 'state', publishedBy: 'cli', request: J.jobGetRequest, reply: J.jobGetReply, description: 'one job with its attempt history' }),
  jobsTakeStalePending: rpc({ suffix: 'state.jobs.take-stale-pending', answeredBy: 'state', publishedBy: 'planner', request: D.takeStalePendingRequest, reply: D.dispatchBatch, description: 'pending jobs whose publisher went away, to publish (dispatch sweep)' }),
  jobsOutstanding: rpc({ suffix: 'state.jobs.outstanding', answeredBy: 'state', publishedBy: 'planner', request: D.outstandingJobsRequest, reply: D.outstandingJobsReply, description: 'queued/running counts and a page of queued jobs, to compare with the stream (dispatch sweep)' }),
  jobsRedispatch: rpc({ suffix: 'state.jobs.redispatch', answeredBy: 'state', publishedBy: 'planner', request: D.redispatchRequest, reply: D.dispatchBatch, description: 'jobs whose event is lost: new generation, back to pending, to publish again' }),
  plannerDispatch: rpc({ suffix: 'planner.jobs.dispatch', answeredBy: 'planner', publishedBy: 'state', request: D.plannerDispatchRequest, reply: D.plannerDispatchReply, description: "publish job events and mark the jobs queued (state's reconciler asks after requeueing)" }),
  gridSubmit: rpc({ suffix: 'planner.grid.submit', answeredBy: 'planner', publishedBy: 'cli', request: G.gridSubmitRequest, reply: G.gridSubmitReply, description: 'validate, expand, persist and queue a grid' }),
  plannerCancel: rpc({ suffix: 'planner.grid.cancel', answeredBy: 'planner', publishedBy: 'cli', request: G.plannerCancelRequest, reply: G.plannerCancelReply, description: 'cancel a grid and tell runners' }),
  plannerRetry: rpc({ suffix: 'planner.grid.retry', answeredBy: 'planner', publishedBy: 'cli', request: G.plannerRetryRequest, reply: G.plannerRetryReply, description: 'queue the failed points of a grid again' }),
  legacyImport: rpc({ suffix: 'state.legacy.import', answeredBy: 'state', publishedBy: 'cli', request: L.legacyImportRequest, reply: L.legacyImportReply, description: 'import a batch of rows of one pdr_run table (pdr db import), idempotent per source file' }),
  healthPing: rpc({ suffix: 'health.ping', answeredBy: 'all', publishedBy: 'cli', request: E.healthPingRequest, reply: E.healthPingReply, description: 'every service instance answers (collect replies)' }),
} as const;

export type RpcName = keyof typeof RPC;
export type RpcRequest<N extends RpcName> = z.input<(typeof RPC)[N]['request']>;
export type RpcRequestParsed<N extends RpcName> = z.output<(typeof RPC)[N]['request']>;
export type RpcReply<N extends RpcName> = z.output<(typeof RPC)[N]['reply']>;

/** Plain publish/subscribe events (informational). */
export const EVENTS = {
  progress: { suffix: 'events.progress', schema: E.progressEvent, publishedBy: 'state', description: '<ns>.events.progress.<gridId>: a job changed status' },
  gridCancelled: { suffix: 'events.grid-cancelled', schema: E.gridCancelledEvent, publishedBy: 'planner', description: 'a grid was cancelled' },
} as const;

export const DEFAULT_NAMESPACE = 'pdr';

export function namespaceFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const ns = env.PDR_NATS_PREFIX ?? DEFAULT_NAMESPACE;
  if (!/^[A-Za-z0-9_-]+$/.test(ns)) throw new Error(`PDR_NATS_PREFIX "${ns}" must be letters, digits, "_" or "-"`);
  return ns;
}

/** The concrete names of one installation (namespace). */
export function names(ns: string = DEFAULT_NAMESPACE) {
  const upper = ns.toUpperCase().replace(/-/g, '_');
  return {
    ns,
    rpc: (n: RpcName) => `${ns}.${RPC[n].suffix}`,
    progress: (gridId: number | string) => `${ns}.${EVENTS.progress.suffix}.${gridId}`,
    gridCancelled: `${ns}.${EVENTS.gridCancelled.suffix}`,
    /**
     * JetStream: one work-queue stream for job events, one durable pull consumer shared by all runners.
     * One subject per job (`<ns>.jobs.run.<gridId>.<jobId>`): the stream's per-subject counts tell which
     * queued jobs have an event, and a cancelled grid's events are purged by `<ns>.jobs.run.<gridId>.>`.
     */
    jobStream: `${upper}_JOBS`,
    jobSubject: (gridId: number | string, jobId: number | string) => `${ns}.jobs.run.${gridId}.${jobId}`,
    /** Every job event of a grid (and, with `*` for the grid, of all grids). */
    gridJobSubjects: (gridId: number | string) => `${ns}.jobs.run.${gridId}.>`,
    /** What the stream holds: job subjects of this version, and `<ns>.jobs.run.<gridId>` of earlier ones. */
    jobStreamSubjects: `${ns}.jobs.run.>`,
    jobConsumer: `${upper}_RUNNERS`,
    /** Queue groups: several instances of a service share the load. */
    queueGroup: (service: 'state' | 'planner') => `${ns}-${service}`,
  };
}
export type Names = ReturnType<typeof names>;
