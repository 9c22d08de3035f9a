import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Msg, NatsConnection, Subscription } from 'nats';
import { lastValueFrom, Observable, throwError } from 'rxjs';
import { ContractError, ErrorReply, names, RPC, RpcName } from '@pdr/contracts';
import type { Logger } from 'pino';
import { decodeJson, encodeJson } from './codec';
import { badRequest, toErrorReply } from './errors';
import { answerHealth, HealthInfo } from './health';
import { Admission, OverloadedError } from './admission';

export interface ContractServerOptions {
  nc: NatsConnection;
  ns: string;
  service: 'state' | 'planner';
  logger: Logger;
  /** Runs around every handler call, e.g. a MikroORM RequestContext per message. */
  around?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Maps non-contract errors to a reply (e.g. lost database → UNAVAILABLE); default INTERNAL. */
  classifyError?: (err: unknown) => ErrorReply | undefined;
  health: Omit<HealthInfo, 'service'>;
  /** Told of every answered request: its RPC name, seconds from arrival to reply, 'ok' or the error code, the reply (metrics). */
  observe?: (rpc: RpcName, seconds: number, outcome: string, reply: unknown) => void;
  /** Admission control (state): how many handlers run at once, in which order, which are refused when late. */
  admission?: Admission<RpcName>;
}

/** Requests refused by admission control are counted and logged once per this interval, not one line each. */
const SHED_LOG_INTERVAL_MS = 10_000;

/**
 * A Nest transport that speaks the contract library's plain-JSON protocol on NATS: every @MessagePattern
 * names a contract RPC (`@MessagePattern('jobClaim')`; the subject comes from the namespace at listen time); requests are validated with the contract's zod schema before the handler
 * runs; every failure is answered with `{ error: { code, message, details } }` and never crashes the
 * service. Subscriptions use the service's queue group, so several instances share the load.
 */
export class ContractNatsServer extends Server implements CustomTransportStrategy {
  private subs: Subscription[] = [];
  private inFlight = new Set<Promise<void>>();
  private shedLogged = 0;
  private shedLogAt = 0;

  constructor(private readonly opts: ContractServerOptions) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    const n = names(this.opts.ns);
    const bySubject = new Map<string, RpcName>();
    for (const name of Object.keys(RPC) as RpcName[]) bySubject.set(n.rpc(name), name);
    for (const pattern of this.messageHandlers.keys()) {
      // A pattern is an RPC name of the contract ('jobClaim'), resolved to this namespace's subject, or
      // the full subject itself.
      const rpcName = pattern in RPC ? (pattern as RpcName) : bySubject.get(pattern);
      if (!rpcName) throw new Error(`@MessagePattern("${pattern}") is not an RPC of the contract library`);
      const subject = n.rpc(rpcName);
      // looked up once: Nest's lookup normalizes the pattern on every call (≈ 30 µs per message in state's profile)
      const handler = this.getHandlerByPattern(pattern);
      const queue = n.queueGroup(this.opts.service);
      const sub = this.opts.nc.subscribe(subject, {
        queue,
        callback: (err, msg) => {
          if (err) {
            this.opts.logger.error({ err: err.message, subject }, 'subscription error');
            return;
          }
          const p = this.handle(rpcName, handler, subject, msg).finally(() => this.inFlight.delete(p));
          this.inFlight.add(p);
        },
      });
      this.subs.push(sub);
    }
    this.subs.push(answerHealth(this.opts.nc, this.opts.ns, { ...this.opts.health, service: this.opts.service }));
    callback();
  }

  private async handle(rpcName: RpcName, handler: MessageHandler | null, subject: string, msg: Msg): Promise<void> {
    const def = RPC[rpcName];
    const started = process.hrtime.bigint();
    let reply: unknown;
    let outcome = 'ok';
    try {
      let raw: unknown;
      try {
        raw = decodeJson(msg.data);
      } catch (e) {
        throw new ContractError('BAD_REQUEST', `malformed JSON on ${subject}: ${(e as Error).message}`);
      }
      const parsed = def.request.safeParse(raw);
      if (!parsed.success) throw badRequest(`${subject} request`, parsed.error);
      if (!handler) throw new ContractError('INTERNAL', `no handler for ${subject}`);
      const run = async () => {
        const out = this.transformToObservable(await handler(parsed.data)) as Observable<unknown>;
        return lastValueFrom(out);
      };
      const inContext = () => (this.opts.around ? this.opts.around(run) : run());
      reply = this.opts.admission ? await this.opts.admission.run(rpcName, inContext) : await inContext();
    } catch (err) {
      if (err instanceof OverloadedError) {
        reply = err.toReply();
        this.logShed();
        try {
          if (msg.reply) msg.respond(encodeJson(reply));
        } catch {
          /* connection gone; the caller times out and retries */
        }
        return;
      }
      const classified = err instanceof ContractError ? undefined : this.opts.classifyError?.(err);
      reply = classified ?? toErrorReply(err);
      outcome = (reply as ErrorReply).error.code;
      const level = err instanceof ContractError && err.code !== 'INTERNAL' ? 'warn' : 'error';
      this.opts.logger[level]({ subject, code: (reply as ErrorReply).error.code, err: (err as Error)?.message }, 'request failed');
    }
    try {
      this.opts.observe?.(rpcName, Number(process.hrtime.bigint() - started) / 1e9, outcome, reply);
    } catch {
      /* metrics never fail a request */
    }
    if (!msg.reply) return;
    try {
      msg.respond(encodeJson(reply));
    } catch (err) {
      // e.g. a reply larger than max_payload: tell the caller instead of leaving it to time out
      this.opts.logger.error({ subject, err: (err as Error).message }, 'could not send reply');
      try {
        msg.respond(encodeJson({ error: { code: 'TOO_LARGE', message: `reply to ${subject} could not be sent: ${(err as Error).message}` } }));
      } catch {
        /* connection gone; the caller times out */
      }
    }
  }

  private logShed(): void {
    const a = this.opts.admission!;
    if (Date.now() - this.shedLogAt < SHED_LOG_INTERVAL_MS) return;
    this.opts.logger.warn({ refused: a.shed - this.shedLogged, waiting: a.waiting }, 'busy: requests refused (UNAVAILABLE) that waited too long for their turn; callers retry');
    this.shedLogged = a.shed;
    this.shedLogAt = Date.now();
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    await Promise.allSettled([...this.inFlight]);
  }

  on(): void {
    /* no transport events are exposed */
  }

  unwrap<T>(): T {
    return this.opts.nc as unknown as T;
  }
}

/**
 * Nest wraps errors thrown by handlers into `{status:'error'}` objects; this filter passes them through
 * unchanged so the transport can answer with the contract's error reply. Register it globally.
 */
@Catch()
export class PassThroughRpcFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
