/**
 * Test harness of the state service: a real MariaDB database of its own (`pdr_test_<random>`, dropped
 * at the end) and a NATS namespace of its own (`t<random>`, its job stream deleted at the end).
 * PDR_DB_* and PDR_NATS_URL select the servers (local defaults).
 */
import { createHash, randomBytes } from 'crypto';
import { names, RPC, RpcName, RpcRequest } from '@pdr/contracts';
import { createLogger } from '@pdr/logging';
import { connectNats, ContractClient, decodeJson, encodeJson } from '@pdr/messaging';
import { dropDatabase, Em, type DatabaseSettings } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import type { NatsConnection } from 'nats';
import { startStateService, type StateHandle, type StateServiceOptions } from '../../apps/state/src/main';

export const NATS_URL = process.env.PDR_NATS_URL || 'nats://127.0.0.1:4222';

export interface Harness {
  ns: string;
  db: DatabaseSettings;
  state: StateHandle;
  nc: NatsConnection;
  client: ContractClient;
  /** A fork of the service's ORM for assertions on the rows. */
  em(): Em;
  /** Sends a payload (object or raw bytes) to a state RPC and returns the decoded raw reply. */
  raw(name: RpcName, payload: unknown): Promise<unknown>;
  /** Sends a valid request and returns the raw reply after checking it against the reply schema. */
  call<N extends RpcName>(name: N, payload: RpcRequest<N>): Promise<ReturnType<(typeof RPC)[N]['reply']['parse']>>;
  /** Another state instance on the same database and namespace. */
  startAnother(opts?: Partial<StateServiceOptions>): Promise<StateHandle>;
  close(): Promise<void>;
}

export function quietLogger(name = 'state') {
  return createLogger(name, { level: process.env.PDR_LOG_LEVEL || 'silent', logDir: null });
}

export async function startHarness(opts: Partial<StateServiceOptions> = {}): Promise<Harness> {
  const ns = `t${randomBytes(4).toString('hex')}`;
  const db = opts.db ?? testDatabaseSettings();
  const base: StateServiceOptions = { ns, natsUrl: NATS_URL, logger: quietLogger(), reconcile: false, ...opts, db };
  const state = await startStateService(base);
  const others: StateHandle[] = [];
  const nc = await connectNats({ url: NATS_URL, name: 'state-test', reconnect: false });
  const client = new ContractClient(nc, ns);
  const n = names(ns);
  const raw = async (name: RpcName, payload: unknown) => {
    const data = payload instanceof Uint8Array ? payload : encodeJson(payload);
    const msg = await nc.request(n.rpc(name), data, { timeout: 120_000 });
    return decodeJson(msg.data);
  };
  return {
    ns,
    db,
    state,
    nc,
    client,
    em: () => state.orm.em.fork() as Em,
    raw,
    async call(name, payload) {
      const reply = await raw(name, payload);
      const parsed = RPC[name].reply.safeParse(reply);
      if (!parsed.success) throw new Error(`${name}: reply does not match the contract: ${JSON.stringify(reply).slice(0, 500)}`);
      return parsed.data as never;
    },
    async startAnother(more = {}) {
      const h = await startStateService({ ...base, ...more });
      others.push(h);
      return h;
    },
    async close() {
      for (const h of others) await h.close();
      await state.close();
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.delete(n.jobStream);
      } catch {
        /* no stream */
      }
      await nc.close();
      await dropDatabase(db);
    },
  };
}

/** A harness for the whole test file: started before its first test, closed after its last. */
export function useHarness(set: (h: Harness) => void, opts: Partial<StateServiceOptions> = {}): void {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness(opts);
    set(h);
  });
  afterAll(async () => {
    await h?.close();
  });
}

export function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A valid state.grid.upsert request for `modelName`. */
export function gridRequest(modelName: string, over: Partial<RpcRequest<'gridUpsert'>> = {}): RpcRequest<'gridUpsert'> {
  return {
    v: 1,
    modelName,
    modelPath: `/storage/${modelName}`,
    description: null,
    requestHash: sha(`grid:${modelName}`),
    user: { username: 'tester', email: 'tester@example.com' },
    chemicalDatabase: { fileName: 'chem_rates.dat', fullPath: '/base/pdrinpdata/chem_rates.dat', origin: 'UMIST' },
    physics: { alpha: 1.5, rcore: 0.2, chemistry: 'H+ H2 CO C+ 13CO', nonDefault: { ihdfout: 4 } },
    onionSpecies: ['CO', 'C+'],
    run: {
      baseDir: '/base',
      pdrFileName: 'mockpdr',
      onionFileName: 'mockonion',
      chemDatabase: 'chem_rates.dat',
      storage: { type: 'local', baseDir: '/storage' },
      timeouts: { pdrMs: 60_000, onionMs: 60_000 },
    },
    pointCount: 1,
    seed: null,
    ...over,
  };
}

/** `count` distinct points on the dens axis. */
export function points(count: number, metal = '100'): [string, string, string, string][] {
  return Array.from({ length: count }, (_, i) => [metal, (10 + i / 100).toFixed(2), '-10', '10'] as [string, string, string, string]);
}
