import { limitFromEnv, RpcName } from '@pdr/contracts';
import { Admission } from '@pdr/messaging';

/** Runner requests that free a slot or keep a running job alive: they go before everything else. */
const FIRST: ReadonlySet<RpcName> = new Set<RpcName>(['jobFinish', 'jobRelease', 'jobAbandon', 'jobHeartbeat', 'jobsHeartbeat', 'jobStep']);

/**
 * The state service's admission control (libs/messaging/src/admission.ts): at most two handlers per pooled
 * database connection at once (one using it, one parsing or answering), so nothing queues inside the pool;
 * in line, finishes/heartbeats/releases/steps first, then queries and the planner's requests, claims last;
 * a claim that waited longer than CLAIM_MAX_QUEUE_MS is refused (UNAVAILABLE, the runner retries).
 */
export function stateAdmission(poolMax: number, env: NodeJS.ProcessEnv = process.env): Admission<RpcName> {
  const claimMaxQueueMs = limitFromEnv('CLAIM_MAX_QUEUE_MS', env);
  return new Admission<RpcName>({
    maxActive: 2 * poolMax,
    priority: (rpc) => (FIRST.has(rpc) ? 0 : rpc === 'jobClaim' ? 2 : 1),
    shedAfterMs: (rpc) => (rpc === 'jobClaim' ? claimMaxQueueMs : undefined),
  });
}
