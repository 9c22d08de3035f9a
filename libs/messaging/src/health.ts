import { NatsConnection, Subscription, createInbox } from 'nats';
import { ContractError, healthPingReply, HealthPingReply, healthPingRequest, LIMITS, names } from '@pdr/contracts';
import { decodeJson, encodeJson } from './codec';
import { badRequest } from './errors';

export interface HealthInfo {
  service: HealthPingReply['service'];
  instanceId: string;
  version: string;
  startedAt: string;
  detail?: () => Record<string, unknown>;
}

/** Every instance answers health.ping (no queue group: the caller hears all of them). */
export function answerHealth(nc: NatsConnection, ns: string, info: HealthInfo): Subscription {
  return nc.subscribe(names(ns).rpc('healthPing'), {
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      // a malformed ping or another schema version is answered like any other subject: an error reply
      let invalid: ContractError | null = null;
      try {
        const parsed = healthPingRequest.safeParse(decodeJson(msg.data));
        if (!parsed.success) invalid = badRequest(`${msg.subject} request`, parsed.error);
      } catch (e) {
        invalid = new ContractError('BAD_REQUEST', `malformed JSON on ${msg.subject}: ${(e as Error).message}`);
      }
      if (invalid) {
        msg.respond(encodeJson(invalid.toReply()));
        return;
      }
      const reply: HealthPingReply = {
        service: info.service,
        instanceId: info.instanceId,
        version: info.version,
        startedAt: info.startedAt,
        detail: info.detail ? info.detail() : {},
      };
      msg.respond(encodeJson(reply));
    },
  });
}

/** Pings every service and collects the answers that arrive within `ms`. */
export async function collectHealth(nc: NatsConnection, ns: string, ms: number = LIMITS.HEALTH_COLLECT_MS): Promise<HealthPingReply[]> {
  // this connection's own inbox prefix (a role's, see deploy/nats): replies come where it may listen
  const inbox = createInbox((nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
  const out: HealthPingReply[] = [];
  const sub = nc.subscribe(inbox, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const r = healthPingReply.safeParse(decodeJson(msg.data));
        if (r.success) out.push(r.data);
      } catch {
        /* a malformed answer is no answer */
      }
    },
  });
  nc.publish(names(ns).rpc('healthPing'), encodeJson({ v: 1 }), { reply: inbox });
  await new Promise((r) => setTimeout(r, ms));
  sub.unsubscribe();
  return out;
}
