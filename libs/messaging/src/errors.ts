import { ContractError, ErrorReply } from '@pdr/contracts';
import { z } from 'zod';
import { ErrorCode as NatsErrorCode, type NatsError } from 'nats';

/** Turns zod issues into a compact list naming each field, for BAD_REQUEST details. */
export function describeIssues(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}

export function badRequest(what: string, err: z.ZodError): ContractError {
  const issues = describeIssues(err);
  const first = issues[0];
  return new ContractError('BAD_REQUEST', `invalid ${what}: ${first ? `${first.path}: ${first.message}` : 'schema mismatch'}`, { issues });
}

/** A request could not be answered: no service listens, or it did not answer in time. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  constructor(
    readonly service: string,
    readonly subject: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * NATS refused a publish or subscription for the credentials in use (a role's permissions, see
 * deploy/nats/nats-server.conf): a configuration mistake, not an outage.
 */
export class NatsPermissionError extends Error {
  override name = 'NatsPermissionError';
  constructor(readonly subject: string, what: 'publish to' | 'subscribe to' = 'publish to') {
    super(`NATS denied this connection's credentials to ${what} ${subject}: connect with a user of the role that may (PDR_NATS_USER / PDR_NATS_CREDS_FILE …)`);
  }
}

export function isPermissionViolation(err: unknown): boolean {
  return (err as NatsError | undefined)?.code === NatsErrorCode.PermissionsViolation;
}

export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof ContractError) return err.toReply();
  return { error: { code: 'INTERNAL', message: 'internal error' } };
}
