import { LIMITS } from '@pdr/contracts';

/** Runner-side limits, each with its reason. */
export const RUNNER_LIMITS = {
  /** A pull waits this long for an event before checking for shutdown again. */
  PULL_EXPIRES_MS: 2_000,
  /** After a failed pull (nats-server restarting, the consumer deleted) the next one waits this long,
   * then the consumer is looked up again: the pull loop itself is the retry, bounded by shutdown. */
  PULL_RETRY_MS: 1_000,
  /** After SIGTERM, running jobs get this long to finish before they are released to other runners. */
  SHUTDOWN_GRACE_MS: 30_000,
  /** Attempts to report an outcome to state before the event is nak'ed (state down): the outcome's
   * files are stored, so the redelivery ends in the skip path. */
  FINISH_REPORT_ATTEMPTS: 5,
  /** The pause before report try n+1 is n × this (1 + 2 + 3 + 4 = 10 s in all): long enough to ride out a
   * restart of state before the event is handed back for redelivery. */
  FINISH_REPORT_BACKOFF_MS: 1_000,
  /** A runner with an allocation end keeps this much of it for storing outputs and reporting the last job. */
  WALLTIME_MARGIN_MS: 15_000,
  /** An executable killed by a signal this runner did not send: wait this long for the runner's own
   * shutdown signal (Slurm signals every process of an ending allocation) before calling it a problem. */
  OUTSIDE_KILL_WAIT_MS: 3_000,
  /** How long a runner reuses the expected job durations it got from state. */
  ESTIMATE_CACHE_MS: 15_000,
  /** A runner that may not create the job stream asks again this often until state or planner has. */
  STREAM_WAIT_MS: 2_000,
  HEARTBEAT_INTERVAL_MS: LIMITS.HEARTBEAT_INTERVAL_MS,
  TRANSIENT_RETRY_DELAY_MS: LIMITS.TRANSIENT_RETRY_DELAY_MS,
} as const;
