import type { FailureKind } from './types';

/** A failure that ends the job as `failed` with a reason (thrown inside runJob, caught there). */
export class JobFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JobFailure';
  }
}
