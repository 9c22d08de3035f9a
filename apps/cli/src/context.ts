import * as path from 'path';
import { NatsConnection } from 'nats';
import { namespaceFromEnv } from '@pdr/contracts';
import type { ContractClient } from '@pdr/messaging/client';
import { config as configLib, messaging } from './lazy';
import { UsageError } from './errors';
import { Io } from './output/io';

/** What every command gets: where to write, the caller's environment and cwd, and a way to reach NATS. */
export interface CliContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  /** The caller's working directory: every relative path given by the user is resolved against it. */
  cwd: string;
  verbose: boolean;
  /** The repository root (where apps/<service>/dist/main.js live). */
  repoRoot: string;
}

/** A NATS connection with the typed client of this installation (namespace PDR_NATS_PREFIX). */
export interface Session {
  nc: NatsConnection;
  client: ContractClient;
  ns: string;
}

export function namespaceOf(env: NodeJS.ProcessEnv): string {
  try {
    return namespaceFromEnv(env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Connects, runs `fn`, and always closes the connection (pending messages flushed). Authentication and
 * TLS: PDR_NATS_* of the caller's environment, below them the `nats` section of `opts.configFile`.
 */
export async function withSession<T>(ctx: CliContext, fn: (s: Session) => Promise<T>, opts: { reconnect?: boolean; configFile?: string } = {}): Promise<T> {
  const ns = namespaceOf(ctx.env);
  const { connectNats, ContractClient } = messaging();
  const settings = configLib().natsSettingsFromEnv(ctx.env, { file: opts.configFile, cwd: ctx.cwd });
  const nc = await connectNats({ name: 'pdr-cli', reconnect: opts.reconnect ?? false, settings });
  try {
    return await fn({ nc, client: new ContractClient(nc, ns), ns });
  } finally {
    try {
      await nc.drain();
    } catch {
      await nc.close().catch(() => undefined);
    }
  }
}

/** apps/cli/dist → repository root. */
export function defaultRepoRoot(): string {
  return path.resolve(__dirname, '..', '..', '..');
}
