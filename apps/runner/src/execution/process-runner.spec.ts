import { closeSync, openSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from './process-runner';

/** True once `pid` no longer runs (gone, or a zombie waiting for a reaper that is not ours). */
async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    let state: string | null = null;
    try {
      process.kill(pid, 0);
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runProcess', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-proc-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const run = async (script: string, args: string[] = [], timeoutMs = 30_000) => {
    const exe = path.join(tmp, 'prog');
    await fs.writeFile(exe, script, { mode: 0o755 });
    const log = path.join(tmp, 'log');
    const fd = openSync(log, 'a');
    try {
      const outcome = await runProcess({ command: './prog', args, cwd: tmp, env: process.env, outputFd: fd, timeoutMs, killGraceMs: 200 });
      return { outcome, log: readFileSync(log, 'utf8') };
    } finally {
      closeSync(fd);
    }
  };

  it('runs ./prog in cwd without a shell, stdout and stderr to the fd, exit code kept', async () => {
    const { outcome, log } = await run('#!/bin/sh\necho "out $1 $(pwd)"\necho err >&2\nexit 7\n', ['a b;$(touch x)']);
    expect(outcome).toMatchObject({ exitCode: 7, signal: null, timedOut: false, aborted: false });
    expect(log).toBe(`out a b;$(touch x) ${await fs.realpath(tmp)}\nerr\n`);
    await expect(fs.access(path.join(tmp, 'x'))).rejects.toThrow(/ENOENT/); // argument never reached a shell
  });

  it('rejects when the program cannot be started (bad interpreter)', async () => {
    await expect(run('#!/nonexistent/interpreter\n')).rejects.toThrow(/ENOENT/);
  });

  it('kills the whole process group on timeout, including children of the program', async () => {
    const { outcome, log } = await run('#!/bin/sh\nsleep 600 &\necho "child $!"\nwait\n', [], 500);
    expect(outcome).toMatchObject({ timedOut: true, exitCode: null });
    const child = Number(/child (\d+)/.exec(log)?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(await goneWithin(child, 5000)).toBe(true);
  });
});
