import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { describeError } from './errors';

/** The answer of one remote-control call: rclone's JSON reply, or its error. */
export type RcReply =
  | { ok: true; body: Record<string, unknown> }
  | {
      ok: false;
      /** HTTP status of rclone's error reply (404: object or directory not found); 0: no reply. */
      status: number;
      error: string;
      timedOut: boolean;
      /** rclone could not be started (missing binary): not worth a retry. */
      noBinary?: boolean;
    };

/**
 * How long `rclone rcd` may take to start listening. Its start reads no remote and opens no connection, so
 * this is process start-up only (~50 ms); a loaded machine gets ample room.
 */
const START_TIMEOUT_MS = 15_000;

/**
 * One long-lived `rclone rcd` per runner process (per rclone binary and environment): every storage call of
 * the rclone backend is one HTTP request to it instead of one rclone process. rclone keeps its remotes
 * (their SSH connection pools, their checked hash support) between calls, so a job's 13 files cost no SSH
 * handshake at all once the first job has made the connections — where one process per call paid a
 * handshake and a `md5sum`/`sha1sum` probe each time (4 processes per job: 2.6× a bare `rclone copy`).
 *
 * It listens on 127.0.0.1 on a port the kernel picks, with a random user and password of its own (given to
 * rclone in its environment, RCLONE_RC_USER/RCLONE_RC_PASS: not on its command line, which other users can
 * read); it is spawned without a shell, ended by `close()` (the runner's shutdown) and at this process's
 * exit, and started again by the next call when it died. A call over its time kills it (the operation stuck
 * inside cannot be cancelled otherwise): the next call starts a fresh one.
 */
export class RcloneDaemon {
  private child: ChildProcess | null = null;
  private starting: Promise<string> | null = null;
  private url: string | null = null;
  private readonly authHeader: string;
  private readonly user = `pdr-${randomBytes(6).toString('hex')}`;
  private readonly pass = randomBytes(24).toString('hex');
  private stderrTail = '';
  private closed = false;
  /** Daemons started so far (tests: one per runner, again only after one died). */
  starts = 0;

  constructor(
    private readonly binary: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly flags: readonly string[],
  ) {
    this.authHeader = `Basic ${Buffer.from(`${this.user}:${this.pass}`).toString('base64')}`;
  }

  private start(): Promise<string> {
    this.starts++;
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | null, url?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(url as string);
      };
      // through the watchdog: rclone ends with this process even when it is killed (SIGKILL, OOM)
      const child = spawn(process.execPath, ['-e', WATCHDOG, this.binary, 'rcd', '--rc-addr', '127.0.0.1:0', '--log-level', 'NOTICE', ...this.flags], {
        stdio: ['pipe', 'ignore', 'pipe'],
        env: { ...this.env, RCLONE_RC_USER: this.user, RCLONE_RC_PASS: this.pass },
        shell: false,
      });
      this.child = child;
      this.stderrTail = '';
      const timer = setTimeout(() => {
        this.kill(child); // SIGTERM: the watchdog ends rclone (a SIGKILL of the watchdog would leave rclone running)
        done(Object.assign(new Error(`rclone rcd did not start listening within ${START_TIMEOUT_MS / 1000} s: ${this.stderrTail.trim().slice(-300)}`), { code: 'ETIMEDOUT' }));
      }, START_TIMEOUT_MS);
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        this.stderrTail = (this.stderrTail + d).slice(-8192);
        const m = /Serving remote control on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(this.stderrTail);
        if (m) done(null, m[1]);
      });
      child.on('error', (err) => done(err));
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = null;
          this.url = null;
        }
        done(
          code === WATCHDOG_NO_BINARY
            ? Object.assign(new Error(`rclone executable "${this.binary}" not found (install rclone or set PDR_RCLONE)`), { code: 'ENOBINARY' })
            : new Error(`rclone rcd ended at start (${code ?? signal}): ${this.stderrTail.trim().slice(-300)}`),
        );
      });
      child.stdin?.on('error', () => undefined);
      // the daemon must not keep a CLI process alive
      child.unref();
      for (const s of [child.stdin, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
      exitHook.add(child);
      child.on('exit', () => exitHook.delete(child));
    });
  }

  private async ensure(): Promise<string> {
    if (this.closed) throw Object.assign(new Error('rclone backend closed (runner shutting down)'), { code: 'ECONNABORTED' });
    if (this.url && this.child) return this.url;
    if (!this.starting) {
      this.starting = this.start().then(
        (url) => {
          this.url = url;
          this.starting = null;
          return url;
        },
        (err: unknown) => {
          this.starting = null;
          throw err;
        },
      );
    }
    return this.starting;
  }

  /** Process id of the watchdog (its child is rclone), null when none runs: for tests. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /**
   * Ends a daemon: `c`, the one a call used (by default the current one). A call that failed on a daemon
   * already replaced must not end its successor. SIGTERM goes to the watchdog, which ends rclone (SIGKILL
   * after WATCHDOG_KILL_MS); the watchdog itself is SIGKILLed only when it is still there well after that.
   */
  private kill(c: ChildProcess | null = this.child): void {
    if (!c) return;
    if (this.child === c) {
      this.child = null;
      this.url = null;
    }
    c.stdin?.end();
    c.kill('SIGTERM');
    setTimeout(() => {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, WATCHDOG_KILL_MS + 3_000).unref();
  }

  /** One rc call (`operations/copyfile`, …) with JSON parameters, bounded by `timeoutMs`. Never throws. */
  async call(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<RcReply> {
    let url: string;
    let child: ChildProcess | null;
    try {
      url = await this.ensure();
      child = this.child;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, status: 0, error: describeError(err), timedOut: code === 'ETIMEDOUT', noBinary: code === 'ENOBINARY' };
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      const res = await fetch(`${url}/${method}`, {
        method: 'POST',
        headers: { authorization: this.authHeader, 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: ctl.signal,
      });
      const text = await res.text();
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { error: text.trim().slice(0, 300) };
      }
      if (res.ok) return { ok: true, body };
      return { ok: false, status: res.status, error: typeof body.error === 'string' ? body.error : `HTTP ${res.status}`, timedOut: false };
    } catch (err) {
      if (ctl.signal.aborted) {
        this.kill(child); // the operation inside cannot be cancelled: a fresh daemon for the next call
        return { ok: false, status: 0, error: `no answer within ${Math.round(timeoutMs / 1000)} s`, timedOut: true };
      }
      // the daemon died (killed, crashed): the next call starts another
      this.kill(child);
      const cause = (err as { cause?: unknown }).cause;
      return { ok: false, status: 0, error: `rclone rcd unreachable: ${describeError(cause ?? err)}`, timedOut: false };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    this.kill();
  }
}

/** Exit code of the watchdog when the rclone binary cannot be started. */
const WATCHDOG_NO_BINARY = 127;
/** How long the watchdog gives rclone to end after SIGTERM before it sends SIGKILL. */
const WATCHDOG_KILL_MS = 1_500;

/**
 * The watchdog between a process and its rclone daemon (node -e, argv: rclone binary and arguments): starts
 * rclone without a shell, passes its stderr on, and ends it when its stdin — a pipe from the process that
 * started it — closes: that process ended, however (Linux does not end children with their parent).
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const c = spawn(process.argv[1], process.argv.slice(2), { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = () => { try { c.kill('SIGTERM'); } catch {} setTimeout(() => { try { c.kill('SIGKILL'); } catch {} }, ${WATCHDOG_KILL_MS}); };
c.on('error', (e) => { process.stderr.write(String(e && e.message) + '\\n'); process.exit(e && e.code === 'ENOENT' ? ${WATCHDOG_NO_BINARY} : 1); });
c.on('exit', (code, sig) => process.exit(code === null ? 1 : code));
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;

/** Daemons still running when this process exits are ended with it. */
const exitHook = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of exitHook) c.kill('SIGTERM');
});

const daemons = new Map<string, RcloneDaemon>();

/** The variables rclone reads (its remotes and flags, where its config file is, the ssh-agent, PATH for md5sum…). */
const RCLONE_ENV = /^(RCLONE_.*|XDG_.*|HOME|PATH|USER|LOGNAME|TMPDIR|SSH_AUTH_SOCK|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/;

/**
 * The daemon of this process for a binary and the environment rclone reads (RCLONE_CONFIG_* remotes differ per
 * environment; other variables changing in the runner's environment must not start another daemon).
 */
export function rcloneDaemon(binary: string, env: NodeJS.ProcessEnv, flags: readonly string[]): RcloneDaemon {
  const relevant = Object.entries(env)
    .filter(([k]) => RCLONE_ENV.test(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key = createHash('sha256').update(JSON.stringify([binary, flags, relevant])).digest('hex');
  let d = daemons.get(key);
  if (!d) daemons.set(key, (d = new RcloneDaemon(binary, env, flags)));
  return d;
}

/** Ends every rclone daemon of this process (a runner shutting down, a CLI command done). */
/** Process ids of this process's rclone daemon watchdogs (tests). */
export function rcloneDaemonPids(): number[] {
  return [...daemons.values()].map((d) => d.pid).filter((p): p is number => p !== null);
}

export function closeRcloneDaemons(): void {
  for (const d of daemons.values()) d.close();
  daemons.clear();
}
