/**
 * The whole system as real processes for fault-injection tests: state, planner and runners started from
 * their built `dist/main.js` on a database of their own (`pdr_test_<random>`), a NATS namespace of their
 * own (on the shared server or on the test's own nats-server) and a temp storage base and work root.
 * The KOSMA-tau base dir is the mock's, seen through a directory of links with one more executable,
 * `countpdr`, that appends `<job dir name>` to a marker file and then IS mockpdr: every real run of a
 * point leaves one line, whatever the services think happened.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { GridRequest, JobRow, names, RpcReply } from '@pdr/contracts';
import { connectNats, ContractClient } from '@pdr/messaging';
import { databaseEnv, type DatabaseSettings } from '@pdr/persistence';
import { testDatabaseSettings } from './database';
import type { NatsConnection } from 'nats';
import { NATS_URL, testNamespace } from './env';
import { GridRequestOverrides, mockGridRequest } from './grid-request';
import { killStrays, Proc, sleep, startService, stopAll } from './processes';

export const MOCK_DIR = resolve(__dirname, '../../deploy/kosmatau-mock');

/** Short timings of every fault test (DESIGN: heartbeat well inside ack_wait, stale > 3 × heartbeat). */
export const FAST_TIMINGS = {
  PDR_JOB_ACK_WAIT_MS: '4000',
  PDR_HEARTBEAT_INTERVAL_MS: '1000',
  PDR_STALE_HEARTBEAT_MS: '3000',
  PDR_RECONCILE_INTERVAL_MS: '1000',
  PDR_STALE_PENDING_MS: '3000',
  PDR_DISPATCH_SWEEP_INTERVAL_MS: '1000',
  PDR_TRANSIENT_RETRY_DELAY_MS: '500',
  PDR_JOB_MAX_DELIVER: '5',
};

/** A base dir of links to the mock's entries plus `countpdr` (mockpdr that first writes a marker line). */
export function countingBaseDir(root: string): { baseDir: string; marker: string } {
  const baseDir = join(root, 'kosmatau');
  const marker = join(root, 'runs.log');
  mkdirSync(baseDir, { recursive: true });
  for (const e of readdirSync(MOCK_DIR)) symlinkSync(join(MOCK_DIR, e), join(baseDir, e));
  const script = [
    '#!/usr/bin/env node',
    "'use strict';",
    '// test fixture: records one line per real run of the PDR executable, then runs mockpdr',
    `if (!process.argv.slice(2).includes('--version')) require('fs').appendFileSync(${JSON.stringify(marker)}, require('path').basename(process.cwd()) + '\\n');`,
    `require(${JSON.stringify(join(MOCK_DIR, 'mockpdr'))});`,
    '',
  ].join('\n');
  writeFileSync(join(baseDir, 'countpdr'), script);
  chmodSync(join(baseDir, 'countpdr'), 0o755);
  writeFileSync(marker, '');
  return { baseDir, marker };
}

export interface RunRecord {
  jobName: string;
  attempt: number;
}

export function readRuns(marker: string): RunRecord[] {
  if (!existsSync(marker)) return [];
  return readFileSync(marker, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^(.*)\.(\d+)-[^.]+$/.exec(l.trim());
      if (!m) throw new Error(`unexpected marker line ${l}`);
      return { jobName: m[1], attempt: Number(m[2]) };
    });
}

export interface ProcStackOptions {
  natsUrl?: string;
  runners?: number;
  concurrency?: number;
  /** Environment of every service (added to FAST_TIMINGS); MOCK_* knobs reach the mock through the runners. */
  env?: Record<string, string>;
  /** Where state finds MariaDB (e.g. a TcpProxy); default the test database's server. */
  dbVia?: { host: string; port: number };
  /** Namespace prefix (a random suffix is added). */
  prefix?: string;
  /** The exact namespace (e.g. another stack's, to put two databases behind one namespace). */
  ns?: string;
}

export interface ProcStack {
  ns: string;
  db: DatabaseSettings;
  natsUrl: string;
  root: string;
  storageDir: string;
  workDir: string;
  baseDir: string;
  marker: string;
  state: Proc;
  planner: Proc;
  runners: Proc[];
  nc: NatsConnection;
  client: ContractClient;
  env: Record<string, string>;
  startState(extra?: Record<string, string>): Promise<Proc>;
  startPlanner(extra?: Record<string, string>): Promise<Proc>;
  startRunner(extra?: Record<string, string>, concurrency?: number): Promise<Proc>;
  request(over?: GridRequestOverrides): GridRequest;
  /** gridStatus, retried while services or NATS are away, until nothing is pending/queued/running. */
  waitDone(gridId: number, timeoutMs?: number): Promise<RpcReply<'gridStatus'>['grid']>;
  /** Every job of a grid (all pages), with files. */
  jobs(gridId: number): Promise<JobRow[]>;
  runs(): RunRecord[];
  /** Rows of the test database (a connection of its own, not through state). */
  sql<T = Record<string, unknown>>(q: string, params?: unknown[]): Promise<T[]>;
  /** Every service output so far, for log assertions. */
  logs(): string;
  /** Stops every service (SIGTERM), leaving the job stream and the database as they are. */
  stopServices(): Promise<void>;
  close(): Promise<void>;
}

/** Retries a request while it fails (a service or NATS restarting), up to `timeoutMs`. */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(250);
    }
  }
}

export async function startProcStack(o: ProcStackOptions = {}): Promise<ProcStack> {
  const ns = o.ns ?? testNamespace(o.prefix ?? 'f');
  const db = testDatabaseSettings();
  const natsUrl = o.natsUrl ?? NATS_URL;
  const root = mkdtempSync(join(tmpdir(), 'pdr-fault-'));
  const storageDir = join(root, 'storage');
  const workDir = join(root, 'work');
  const { baseDir, marker } = countingBaseDir(root);
  const via = o.dbVia ?? { host: db.host, port: db.port };
  const env: Record<string, string> = {
    ...FAST_TIMINGS,
    PDR_NATS_URL: natsUrl,
    PDR_NATS_PREFIX: ns,
    ...databaseEnv({ ...db, host: via.host, port: via.port }),
    ...o.env,
  };
  const all: Proc[] = [];
  const runners: Proc[] = [];
  let mysql: import('mysql2/promise').Connection | null = null;
  let nc: NatsConnection | null = null;
  const s = {} as ProcStack;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const p of all) p.signal('SIGKILL');
    await Promise.all(all.map((p) => p.exited));
    killStrays(root);
    await stopAll(1_000);
    if (nc) {
      try {
        const jsm = await nc.jetstreamManager({ timeout: 2_000 });
        await jsm.streams.delete(names(ns).jobStream);
      } catch {
        /* gone, or NATS away */
      }
      await nc.close().catch(() => undefined);
    }
    if (mysql) {
      await mysql.query(`DROP DATABASE IF EXISTS \`${db.database}\``).catch(() => undefined);
      await mysql.end().catch(() => undefined);
    } else {
      await dropViaNewConnection(db).catch(() => undefined);
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const start = async (kind: 'state' | 'planner' | 'runner', extra: Record<string, string> = {}, args: string[] = []) => {
      const p = await startService(kind, { name: `${kind}#${all.length}`, env: { ...env, ...extra }, args });
      all.push(p);
      return p;
    };
    Object.assign(s, {
      ns,
      db,
      natsUrl,
      root,
      storageDir,
      workDir,
      baseDir,
      marker,
      runners,
      env,
      async startState(extra?: Record<string, string>) {
        s.state = await start('state', extra);
        return s.state;
      },
      async startPlanner(extra?: Record<string, string>) {
        s.planner = await start('planner', extra);
        return s.planner;
      },
      async startRunner(extra?: Record<string, string>, concurrency = o.concurrency ?? 1) {
        const r = await start('runner', extra, ['--concurrency', String(concurrency), '--work-dir', workDir]);
        runners.push(r);
        return r;
      },
      request(over: Parameters<ProcStack['request']>[0] = {}) {
        return mockGridRequest(baseDir, storageDir, { modelName: 'fault_model', onionSpecies: ['CO'], user: { username: 'Fault Test', email: 'fault@example.org' }, ...over, run: { pdrFileName: 'countpdr', ...over.run } });
      },
      async waitDone(gridId: number, timeoutMs = 90_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const r = await retrying(() => s.client.request('gridStatus', { v: 1, selector: { gridId } }, { timeoutMs: 3_000 }), Math.max(1_000, until - Date.now()));
          const c = r.grid.counts;
          if (c.pending + c.queued + c.running === 0) return r.grid;
          if (Date.now() > until) throw new Error(`grid ${gridId} not done after ${timeoutMs} ms: ${JSON.stringify(c)}`);
          await sleep(250);
        }
      },
      async jobs(gridId: number) {
        const out: JobRow[] = [];
        let afterId = 0;
        for (;;) {
          const r = await retrying(() => s.client.request('jobsQuery', { v: 1, gridId, afterId, limit: 1000, withFiles: true }));
          out.push(...r.jobs);
          if (r.nextAfterId === null) return out;
          afterId = r.nextAfterId;
        }
      },
      runs: () => readRuns(marker),
      async sql<T>(q: string, params: unknown[] = []) {
        if (!mysql) {
          const m = await import('mysql2/promise');
          mysql = await m.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
        }
        const [rows] = await mysql.query(q, params);
        return rows as T[];
      },
      logs: () => all.map((p) => `--- ${p.name}\n${p.output()}`).join('\n'),
      async stopServices() {
        await Promise.all(all.filter((p) => p.running).map((p) => p.stop(10_000)));
      },
      close,
    });
    await s.startState(); // creates the database, the job stream and its consumer
    await Promise.all([s.startPlanner(), ...Array.from({ length: o.runners ?? 1 }, () => s.startRunner())]);
    nc = await connectNats({ url: natsUrl, name: 'fault-test' });
    s.nc = nc;
    s.client = new ContractClient(nc, ns);
    return s;
  } catch (err) {
    const out = all.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join('\n');
    await close();
    throw new Error(`${(err as Error).message}\n${out}`);
  }
}

async function dropViaNewConnection(db: DatabaseSettings): Promise<void> {
  const m = await import('mysql2/promise');
  const c = await m.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  try {
    await c.query(`DROP DATABASE IF EXISTS \`${db.database}\``);
  } finally {
    await c.end();
  }
}

/** Files of a model in the storage tree: `pdrgrid/...` and `oniongrid/...` relative names. */
export function storedFiles(storageDir: string, modelName: string): string[] {
  const out: string[] = [];
  for (const sub of ['pdrgrid', 'oniongrid']) {
    const d = join(storageDir, modelName, sub);
    if (existsSync(d)) for (const f of readdirSync(d)) out.push(`${sub}/${f}`);
  }
  return out.sort();
}

/** The files one finished job of the mock stores (SPEC §5.10–5.11), per onion species. */
export function expectedFiles(job: string, species: string[] = ['CO']): string[] {
  const pdr = [`pdr${job}.hdf`, `pdrstruct${job}.hdf5`, `pdrchem${job}.hdf5`, `chemchk${job}.out`, `TEXTOUT${job}`, `MCDRT${job}.tar.gz`, `PDRNEW${job}.INP`, `pdr_config${job}.json`, `CTRL_IND${job}`].map(
    (f) => `pdrgrid/${f}`,
  );
  const onion = species.flatMap((s) => [`TEXTOUT${job}_${s}`, `ONION${job}.jerg_${s}.smli`, `ONION${job}.jtemp_${s}.smlc`, `ONION${job}.linebt_${s}.out`].map((f) => `oniongrid/${f}`));
  return [...pdr, ...onion];
}


/**
 * The stack of the nats-server fault tests (test/faults/nats-restart, lost-events) on their own server:
 * two runners of two slots and a 2 s model run, so the crash lands mid-grid, and a stale-heartbeat window
 * of 6 s, so a NATS outage of a second or two never makes the reconciler take jobs from live runners.
 */
export function startNatsFaultStack(natsUrl: string): Promise<ProcStack> {
  return startProcStack({ natsUrl, runners: 2, concurrency: 2, env: { MOCK_PDR_SECONDS: '2', PDR_STALE_HEARTBEAT_MS: '6000' } });
}
