/**
 * Errno codes and conditions after which trying again cannot help until someone changes something
 * (permissions, space, a read-only mount, a path that is a file): the job fails at once with the reason.
 * A model that ran for 12 hours must not run five more times because its storage folder is read-only.
 */
const PERMANENT_CODES = new Set([
  'EPERM',
  'EACCES',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'ENOTDIR',
  'EISDIR',
  'ELOOP',
  'ENAMETOOLONG',
  'EFBIG',
  'EMLINK',
  'EINVAL',
  'EXDEV',
  'ENOTFOUND', // DNS: no such host (a typo in storage.host)
]);
/** Errno codes of a server or link that may come back: retried after a delay (the job's nak path). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTCONN',
  'EAI_AGAIN',
  'EIO',
  'ESTALE',
  'EAGAIN',
  'EBUSY',
  'EINTR',
]);

/** Transient (true), permanent (false) or unknown (undefined) by errno code. */
export function errnoIsTransient(code: string | undefined): boolean | undefined {
  if (!code) return undefined;
  if (PERMANENT_CODES.has(code)) return false;
  if (TRANSIENT_CODES.has(code)) return true;
  return undefined;
}

export interface StorageErrorOptions {
  cause?: unknown;
  /**
   * True: trying again later may succeed (connection refused/reset, timeout, server restarting). False:
   * it cannot until the setup changes (auth, permissions, no space, path outside the base, missing remote).
   * Default: from the cause's errno code when it has one, else from the cause's own classification, else
   * transient (a retry is bounded by max_deliver and the outputs are kept meanwhile).
   */
  transient?: boolean;
}

/** A storage operation failed; `message` says which backend, host and path and why — never a secret. */
export class StorageError extends Error {
  readonly transient: boolean;
  constructor(message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.transient = options.transient ?? classifyCause(options.cause) ?? true;
  }
}

function classifyCause(cause: unknown): boolean | undefined {
  if (cause instanceof StorageError) return cause.transient;
  return errnoIsTransient((cause as NodeJS.ErrnoException | undefined)?.code);
}

/** A storage path, model name, job name or species was rejected before anything was touched. */
export class StoragePathError extends StorageError {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super(`invalid storage path ${JSON.stringify(value)}: ${reason}`, { transient: false });
    this.name = 'StoragePathError';
  }
}

/** Error text of an unknown thrown value (errno code first when present). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && typeof code === 'string' && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Whether an error (any thrown value) is worth retrying later: StorageError's own verdict, else by errno. */
export function isTransientStorageError(err: unknown): boolean {
  if (err instanceof StorageError) return err.transient;
  return classifyCause(err) ?? true;
}
