import { ContractError, ErrorReply } from '@pdr/contracts';
import { z } from 'zod';

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

export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof ContractError) return err.toReply();
  return { error: { code: 'INTERNAL', message: 'internal error' } };
}
