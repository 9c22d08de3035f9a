import { ChildProcess, spawn } from 'child_process';
import * as readline from 'readline';

export interface ChildSpec {
  /** Prefix of its log lines: state, planner, runner-1 … */
  name: string;
  /** Script run with this node binary (no shell). */
  script: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ManagedChild {
  spec: ChildSpec;
  proc: ChildProcess;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running: boolean;
}

/**
 * Starts service processes (node + their dist main.js), prefixes every line they print with `[name]`,
 * and stops them: SIGTERM, then SIGKILL after a grace period.
 */
export class Supervisor {
  readonly children: ManagedChild[] = [];
  private exitListeners: ((c: ManagedChild, code: number | null, signal: NodeJS.Signals | null) => void)[] = [];

  private readonly onProcessExit = () => this.killAll();

  constructor(private readonly printLine: (line: string) => void) {
    // if this process ends in any way it can notice, no service is left behind
    process.on('exit', this.onProcessExit);
  }

  /** Stops watching this process's exit (after every child has been stopped). */
  dispose(): void {
    process.removeListener('exit', this.onProcessExit);
  }

  onExit(fn: (c: ManagedChild, code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(fn);
  }

  start(spec: ChildSpec): ManagedChild {
    const proc = spawn(process.execPath, [spec.script, ...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      // 'ipc': a channel the service watches; when this process ends in any way (also SIGKILL) the channel
      // closes and the service stops itself (stopWhenSupervisorGone in @pdr/messaging): no orphans
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // own process group: a Ctrl-C in the terminal reaches only `pdr up`, which then stops the services
      // in order (runners first, so they can hand their jobs back to state)
      detached: true,
    });
    const child: ManagedChild = { spec, proc, running: true, exited: Promise.resolve({ code: null, signal: null }) };
    child.exited = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        child.running = false;
        for (const l of this.exitListeners) l(child, code, signal);
        resolve({ code, signal });
      };
      proc.on('exit', (code, signal) => finish(code, signal));
      proc.on('error', (err) => {
        this.printLine(`[${spec.name}] cannot start: ${err.message}`);
        finish(null, null);
      });
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => this.printLine(`[${spec.name}] ${line}`));
    }
    this.children.push(child);
    return child;
  }

  /** SIGTERM to the running children, then SIGKILL for those still alive after `graceMs`. */
  async stop(children: ManagedChild[], graceMs: number): Promise<void> {
    const alive = children.filter((c) => c.running);
    for (const c of alive) c.proc.kill('SIGTERM');
    await Promise.all(
      alive.map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), graceMs);
        });
        const r = await Promise.race([c.exited.then(() => 'exited' as const), killed]);
        clearTimeout(timer);
        if (r === 'timeout' && c.running) {
          this.printLine(`[${c.spec.name}] still running ${Math.round(graceMs / 1000)} s after SIGTERM: killing it`);
          c.proc.kill('SIGKILL');
          await c.exited;
        }
      }),
    );
  }

  /** Immediate SIGKILL of everything still running (second Ctrl-C). */
  killAll(): void {
    for (const c of this.children) {
      if (!c.running) continue;
      try {
        c.proc.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
