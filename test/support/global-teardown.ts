/** Jest global teardown: stops the containers global-setup.ts started (none in the normal case). */
import { CONTAINERS_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const containers = (g[CONTAINERS_KEY] ?? []) as { stop(): Promise<unknown> }[];
  g[CONTAINERS_KEY] = [];
  const results = await Promise.allSettled(containers.map((c) => c.stop()));
  for (const r of results) {
    if (r.status === 'rejected') process.stderr.write(`global teardown: a test container did not stop: ${(r.reason as Error)?.message ?? String(r.reason)}\n`);
  }
}
