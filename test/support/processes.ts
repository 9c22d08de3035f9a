/**
 * Real processes for fault-injection tests: the built services as child processes (own process group,
 * stdout/stderr captured, readiness taken from their log lines), a nats-server of the test's own, a TCP
 * proxy that can be cut, and a registry that stops everything a test file started — even when it fails.
 * Nothing here touches the machine's shared nats-server or MariaDB.
 */
import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as net from 'net';
import { join, resolve, sep } from 'path';
import { describeOrSkip } from './describe-or-skip';

export const REPO = resolve(__dirname, '../..');
export const NATS_SERVER_BIN = process.env.PDR_TEST_NATS_SERVER || '/usr/sbin/nats-server';
export const SERVICE_MAIN = {
  state: join(REPO, 'apps/state/dist/main.js'),
  planner: join(REPO, 'apps/planner/dist/main.js'),
  runner: join(REPO, 'apps/runner/dist/main.js'),
  cli: join(REPO, 'apps/cli/dist/main.js'),
} as const;
export type ServiceKind = keyof typeof SERVICE_MAIN;

/** Everything started through this module, so `stopAll()` (afterAll) leaves nothing behind. */
const live = new Set<Proc>();

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it is true; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

/** A TCP port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(1000);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

/** A child process with its output captured (stdout+stderr interleaved, by line). */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode: number | null | undefined = undefined;
  private partial = '';

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    live.add(this);
    const onData = (d: Buffer) => {
      const text = this.partial + d.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        if (this.partial) this.lines.push(this.partial);
        this.partial = '';
        live.delete(this);
        res({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  output(): string {
    return this.lines.join('\n') + (this.partial ? `\n${this.partial}` : '');
  }

  /** Waits for a line matching `re` (already printed or still to come); fails early if the process exits. */
  async waitForLine(re: RegExp, timeoutMs = 30_000, from = 0): Promise<string> {
    return waitFor(
      `${this.name}: a line matching ${re}`,
      () => {
        const hit = this.lines.slice(from).find((l) => re.test(l));
        if (hit) return hit;
        if (!this.running) throw new Error(`${this.name} exited (${this.exitCode}) before printing ${re}; output:\n${this.output().slice(-3000)}`);
        return undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** Signals the process (its whole group: children of a service die with it unless they made their own group). */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }

  /** SIGKILL, no grace, and wait for the exit. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }
}

export interface SpawnOptions {
  name?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run as this user and group (tests that need an unprivileged process while CI runs as root). */
  uid?: number;
  gid?: number;
}

/** The environment of a child: this process's, without any PDR_* or MOCK_* (the test says what it wants). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_') && !k.startsWith('MOCK_'))) as Record<string, string>;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

export function spawnProc(command: string, args: string[], o: { name: string; env?: Record<string, string>; cwd?: string; uid?: number; gid?: number }): Proc {
  const ids = o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {};
  const child = spawn(command, args, { cwd: o.cwd ?? REPO, env: o.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...ids });
  return new Proc(o.name, child);
}

const READY_LINE: Record<Exclude<ServiceKind, 'cli'>, RegExp> = {
  state: /"msg":"state service listening"/,
  planner: /"msg":"planner service listening"/,
  runner: /"msg":"runner pulling jobs"/,
};

/** Starts a built service (`node apps/<kind>/dist/main.js`) and waits until it says it is ready. */
export async function startService(kind: Exclude<ServiceKind, 'cli'>, o: SpawnOptions = {}): Promise<Proc> {
  if (!existsSync(SERVICE_MAIN[kind])) throw new Error(`${SERVICE_MAIN[kind]} is missing: run npm run build first`);
  const p = spawnProc(process.execPath, [SERVICE_MAIN[kind], ...(o.args ?? [])], {
    name: o.name ?? kind,
    env: cleanEnv({ PDR_LOG_LEVEL: 'info', PDR_LOG_FORMAT: 'json', ...o.env }),
    cwd: o.cwd,
    uid: o.uid,
    gid: o.gid,
  });
  await p.waitForLine(READY_LINE[kind], 60_000);
  return p;
}

/** Runs the built CLI to its end (no shell). */
export async function runCli(args: string[], o: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVICE_MAIN.cli, ...args], { cwd: o.cwd ?? REPO, env: cleanEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const p = new Proc('cli', child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const t = setTimeout(() => p.signal('SIGKILL'), o.timeoutMs ?? 60_000);
  const { code } = await p.exited;
  clearTimeout(t);
  return { code, stdout, stderr };
}

/** A nats-server with JetStream of the test's own, on a free port, with a store dir that survives restarts. */
export class OwnNatsServer {
  proc: Proc | null = null;
  private constructor(
    readonly port: number,
    readonly storeDir: string,
    /** A config file (-c) and variables for it (passwords), e.g. deploy/nats/nats-server.conf. */
    readonly extra: { config?: string; env?: Record<string, string> } = {},
  ) {}

  static available(): boolean {
    return existsSync(NATS_SERVER_BIN);
  }

  static async start(storeDir: string, extra: { config?: string; env?: Record<string, string> } = {}): Promise<OwnNatsServer> {
    const s = new OwnNatsServer(await freePort(), storeDir, extra);
    await s.restart();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) with the same port and store dir; waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.proc?.running) throw new Error('nats-server is already running');
    const config = this.extra.config ? ['-c', this.extra.config] : [];
    this.proc = spawnProc(NATS_SERVER_BIN, [...config, '-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], {
      name: `nats-server:${this.port}`,
      env: cleanEnv(this.extra.env),
    });
    await waitFor(`nats-server on port ${this.port}`, async () => {
      if (!this.proc!.running) throw new Error(`nats-server exited: ${this.proc!.output().slice(-2000)}`);
      return (await portOpen(this.port)) && /Server is ready/.test(this.proc!.output());
    }, 20_000);
  }

  /** Kills it (SIGKILL: no orderly shutdown, as a crash would be). */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5_000);
  }
}

export interface OwnNatsFixture<S> {
  /** The test's own nats-server (kill/restart it at will). */
  readonly nats: OwnNatsServer;
  /** Its JetStream store dir (a test may wipe it while the server is down). */
  readonly storeDir: string;
  /** What `start` built on it. */
  readonly stack: S;
}

/**
 * `describe` with a nats-server of the test's own on a fresh store dir — never the machine's shared one,
 * since the test kills it — and `start(natsUrl)` (the services) on it: started before the tests, closed
 * after them, then the server stopped and its store removed. Skipped, with one line saying why, where
 * there is no nats-server binary.
 */
export function describeWithOwnNats<S extends { close(): Promise<void> }>(name: string, start: (natsUrl: string) => Promise<S>, body: (f: OwnNatsFixture<S>) => void): void {
  let nats: OwnNatsServer | undefined;
  let stack: S | undefined;
  let storeDir: string | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not started (use it inside a test)`);
    return v;
  };
  const fixture: OwnNatsFixture<S> = {
    get nats() {
      return ready(nats, 'the own nats-server');
    },
    get storeDir() {
      return ready(storeDir, 'the own nats-server');
    },
    get stack() {
      return ready(stack, 'the stack on the own nats-server');
    },
  };
  describeOrSkip(name, OwnNatsServer.available() ? null : `no nats-server binary at ${NATS_SERVER_BIN} (set PDR_TEST_NATS_SERVER)`, () => {
    beforeAll(async () => {
      storeDir = mkdtempSync(join(tmpdir(), 'pdr-nats-store-'));
      nats = await OwnNatsServer.start(storeDir);
      stack = await start(nats.url);
    });
    afterAll(async () => {
      await stack?.close();
      await nats?.stop();
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    });
    body(fixture);
  });
}

/** A TCP proxy in front of a server (e.g. MariaDB) that a test can cut (every connection reset, new ones refused) and restore. */
export class TcpProxy {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  private constructor(
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const p = new TcpProxy(await freePort(), target);
    await p.restore();
    return p;
  }

  get isOpen(): boolean {
    return this.server !== null;
  }

  restore(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    this.server = server;
    return new Promise((res, rej) => {
      server.once('error', rej);
      server.listen(this.port, '127.0.0.1', () => res());
    });
  }

  cut(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((res) => server.close(() => res()));
  }

  close(): Promise<void> {
    return this.cut();
  }
}

/**
 * Processes whose working directory lies under `dir` (e.g. a mock executable orphaned when its runner was
 * SIGKILLed): they were started by this test, so they are ended by pid.
 */
export function killStrays(dir: string): number[] {
  const root = resolve(dir) + sep;
  const killed: number[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return killed;
  }
  for (const pid of pids) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (!(cwd + sep).startsWith(root) || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return killed;
}

/** Stops every process this module started and that still runs (SIGTERM, SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(graceMs)));
}

// a worker that dies (jest timeout, crash) must not leave services behind
process.once('exit', () => {
  for (const p of live) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
