import { limitFromEnv, LIMITS } from '@pdr/contracts';

/** Timing of the state service's reconciler; defaults from the contract's LIMITS (overridable by PDR_<LIMIT>). */
export interface StateTimings {
  /** A running job whose heartbeat is older than this is reclaimable / re-queued by the reconciler. */
  staleHeartbeatMs: number;
  /** How often the reconciler runs (it also runs at start). */
  reconcileIntervalMs: number;
}

export function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): StateTimings {
  return {
    staleHeartbeatMs: limitFromEnv('STALE_HEARTBEAT_MS', env),
    reconcileIntervalMs: limitFromEnv('RECONCILE_INTERVAL_MS', env),
  };
}

export const DEFAULT_TIMINGS: StateTimings = {
  staleHeartbeatMs: LIMITS.STALE_HEARTBEAT_MS,
  reconcileIntervalMs: LIMITS.RECONCILE_INTERVAL_MS,
};

export const TIMINGS = Symbol('TIMINGS');
