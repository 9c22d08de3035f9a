import { randomBytes } from 'crypto';

/** Service URLs for tests: from the environment, defaulting to the local services. */
export const NATS_URL = process.env.PDR_NATS_URL || 'nats://127.0.0.1:4222';

/** A namespace of its own per test file, so parallel test files never hear each other. */
export function testNamespace(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}
