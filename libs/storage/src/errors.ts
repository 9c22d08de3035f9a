/** A storage operation failed; `message` says which file, where and why. Never a boolean result. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** A storage path, model name, job name or species was rejected before anything was touched. */
export class StoragePathError extends StorageError {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super(`invalid storage path ${JSON.stringify(value)}: ${reason}`);
    this.name = 'StoragePathError';
  }
}

/** Error text of an unknown thrown value (errno code first when present). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
