import { NatsConnection, NatsError, ErrorCode as NatsErrorCode } from 'nats';
import { ContractError, errorReply, LIMITS, names, RPC, RpcName, RpcReply, RpcRequest } from '@pdr/contracts';
import { decodeJson, encodeJson } from './codec';
import { badRequest, NatsPermissionError, ServiceUnavailableError } from './errors';

export interface RequestOptions {
  timeoutMs?: number;
}

/**
 * Typed request/reply over the contract: the request is validated before it leaves, the reply is
 * validated when it arrives, an error reply becomes a thrown ContractError, a missing or silent
 * service a ServiceUnavailableError that names it.
 */
export class ContractClient {
  private readonly n;
  constructor(
    readonly nc: NatsConnection,
    readonly ns: string,
  ) {
    this.n = names(ns);
  }

  async request<N extends RpcName>(name: N, payload: RpcRequest<N>, opts: RequestOptions = {}): Promise<RpcReply<N>> {
    const def = RPC[name];
    const subject = this.n.rpc(name);
    const checked = def.request.safeParse(payload);
    if (!checked.success) throw badRequest(`${subject} request`, checked.error);
    const timeout = opts.timeoutMs ?? LIMITS.REQUEST_TIMEOUT_MS;
    let data: Uint8Array;
    try {
      const msg = await this.nc.request(subject, encodeJson(checked.data), { timeout });
      data = msg.data;
    } catch (err) {
      const code = (err as NatsError).code;
      if (code === NatsErrorCode.NoResponders) {
        throw new ServiceUnavailableError(def.answeredBy, subject, `the ${def.answeredBy} service is not running (no one answers ${subject})`);
      }
      if (code === NatsErrorCode.Timeout) {
        throw new ServiceUnavailableError(def.answeredBy, subject, `the ${def.answeredBy} service did not answer ${subject} within ${timeout} ms`);
      }
      if (code === NatsErrorCode.PermissionsViolation) throw new NatsPermissionError(subject);
      if (code === NatsErrorCode.MaxPayloadExceeded) {
        throw new ContractError('TOO_LARGE', `request to ${subject} exceeds the NATS max_payload`);
      }
      throw new ServiceUnavailableError(def.answeredBy, subject, `request ${subject} failed: ${(err as Error).message}`);
    }
    const raw = decodeJson(data);
    const asError = errorReply.safeParse(raw);
    if (asError.success) {
      const e = asError.data.error;
      throw new ContractError(e.code, e.message, e.details);
    }
    const reply = def.reply.safeParse(raw);
    if (!reply.success) throw new ContractError('INTERNAL', badRequest(`reply of ${subject}`, reply.error).message);
    return reply.data as RpcReply<N>;
  }

  /** Sends raw bytes to a subject and returns the raw decoded reply (for tests of malformed input). */
  async requestRaw(subject: string, data: Uint8Array, timeoutMs = LIMITS.REQUEST_TIMEOUT_MS): Promise<unknown> {
    const msg = await this.nc.request(subject, data, { timeout: timeoutMs });
    return decodeJson(msg.data);
  }
}
