import { spawn } from 'node:child_process';

export interface ProcessRunOptions {
  /** Program to execute (no shell); relative names like `./mockpdr` resolve against `cwd`. */
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** File descriptor receiving both stdout and stderr. */
  outputFd: number;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

/**
 * Run one executable in its own process group, stdout+stderr to `outputFd`, never through a shell.
 * On timeout or abort the whole group gets SIGTERM, then SIGKILL after `killGraceMs`; the promise
 * settles only when the process is gone. Spawn failures (ENOENT, EACCES) reject.
 */
export function runProcess(opts: ProcessRunOptions): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let timedOut = false;
    let aborted = false;
    let stopping = false;
    let settled = false;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', opts.outputFd, opts.outputFd],
      detached: true, // own process group, so helpers started by the executable are stopped too
      shell: false,
    });

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    };
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs);
    };
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    const cleanup = (): void => {
      if (timeoutTimer) clearTimeout(timeoutTimer);
      if (graceTimer) clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    child.once('spawn', () => {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        stop();
      }, opts.timeoutMs);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    });
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      cleanup();
      if (child.pid !== undefined) killGroup('SIGKILL');
      reject(err);
    });
    child.once('close', (code, sig) => {
      if (settled) return;
      settled = true;
      cleanup();
      // Whatever the executable left running in its group goes with it: when we stopped it, and after a
      // normal exit too (its job directory may be handed to the next job, see JobDirPool).
      killGroup('SIGKILL');
      resolve({
        exitCode: code,
        signal: sig,
        timedOut,
        aborted,
        durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
      });
    });
  });
}
