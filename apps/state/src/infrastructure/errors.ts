import { ContractError, ErrorReply } from '@pdr/contracts';
import { isDatabaseUnavailable, ValueTooLongError } from '@pdr/persistence';

/**
 * The transport's classifyError hook: a database that cannot be reached (down, connection killed,
 * pool cannot connect) → UNAVAILABLE, so callers retry; a value too long for its column → BAD_REQUEST.
 * Everything else stays INTERNAL (logged by the transport, no details leak to the caller).
 */
export function classifyError(err: unknown): ErrorReply | undefined {
  if (isDatabaseUnavailable(err)) {
    return { error: { code: 'UNAVAILABLE', message: 'the database is unreachable right now; retry later' } };
  }
  if (err instanceof ValueTooLongError) {
    return new ContractError('BAD_REQUEST', err.message, { field: err.field, max: err.max }).toReply();
  }
  return undefined;
}

export function notFound(what: string): ContractError {
  return new ContractError('NOT_FOUND', what);
}

export function badRequest(message: string, details?: unknown): ContractError {
  return new ContractError('BAD_REQUEST', message, details);
}
