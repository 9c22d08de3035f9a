/**
 * The whole system in one test process: state (own database), planner and N runners on a NATS namespace
 * of their own, the example mock KOSMA-tau base dir, a temp storage base and work root.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { GridRequest, names, RpcReply } from '@pdr/contracts';
import { createLogger } from '@pdr/logging';
import { connectNats, ContractClient, RunningService } from '@pdr/messaging';
import { dropDatabase, type DatabaseSettings } from '@pdr/persistence';
import { testDatabaseSettings } from './database';
import type { NatsConnection } from 'nats';
import { startStateService, type StateHandle, type StateServiceOptions } from '../../apps/state/src/main';
import { startPlanner } from '../../apps/planner/src/main';
import { startRunner, type RunningRunner } from '../../apps/runner/src/start-runner';
import type { RunnerOptions } from '../../apps/runner/src/start-runner';
import { NATS_URL, testNamespace } from './env';
import { GridRequestOverrides, mockGridRequest } from './grid-request';

export const MOCK_BASE_DIR = resolve(__dirname, '../../deploy/kosmatau-mock');

export function quiet(service: string) {
  return createLogger(service, { level: process.env.PDR_LOG_LEVEL || 'silent', logDir: null });
}

export interface Stack {
  ns: string;
  db: DatabaseSettings;
  storageDir: string;
  workDir: string;
  state: StateHandle;
  planner: RunningService;
  runners: RunningRunner[];
  nc: NatsConnection;
  client: ContractClient;
  addRunner(o?: Partial<RunnerOptions>): Promise<RunningRunner>;
  /** A grid request on the mock base dir; override what a test needs. */
  request(over?: GridRequestOverrides): GridRequest;
  /** Polls grid status until no point is pending/queued/running (or the timeout passes). */
  waitIdle(gridId: number, timeoutMs?: number): Promise<RpcReply<'gridStatus'>>;
  close(): Promise<void>;
}

export interface StackOptions {
  runners?: number;
  concurrency?: number;
  state?: Partial<StateServiceOptions>;
  runner?: Partial<RunnerOptions>;
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const ns = testNamespace('e');
  const db = testDatabaseSettings();
  const root = mkdtempSync(join(tmpdir(), 'pdr-e2e-'));
  const storageDir = join(root, 'storage');
  const workDir = join(root, 'work');
  const state = await startStateService({ db, ns, natsUrl: NATS_URL, logger: quiet('state'), ...o.state });
  const planner = await startPlanner({ ns, natsUrl: NATS_URL, logger: quiet('planner') });
  const runners: RunningRunner[] = [];
  const addRunner = async (ro: Partial<RunnerOptions> = {}) => {
    const r = await startRunner({ ns, natsUrl: NATS_URL, concurrency: o.concurrency ?? 2, workRoot: workDir, logger: quiet('runner'), ...o.runner, ...ro });
    runners.push(r);
    return r;
  };
  for (let i = 0; i < (o.runners ?? 1); i++) await addRunner();
  const nc = await connectNats({ url: NATS_URL, name: 'e2e-test', reconnect: false });
  const client = new ContractClient(nc, ns);
  return {
    ns,
    db,
    storageDir,
    workDir,
    state,
    planner,
    runners,
    nc,
    client,
    addRunner,
    request(over = {}) {
      return mockGridRequest(MOCK_BASE_DIR, storageDir, { modelName: 'e2e_model', ...over });
    },
    async waitIdle(gridId, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await client.request('gridStatus', { v: 1, selector: { gridId } });
        const c = r.grid.counts;
        if (c.pending + c.queued + c.running === 0 || Date.now() > until) return r;
        await new Promise((res) => setTimeout(res, 200));
      }
    },
    async close() {
      await Promise.allSettled(runners.map((r) => r.close(5_000)));
      await planner.close().catch(() => undefined);
      await state.close().catch(() => undefined);
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.delete(names(ns).jobStream);
      } catch {
        /* already gone */
      }
      await nc.drain().catch(() => undefined);
      await dropDatabase(db).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
