import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseRunnerArgs } from './main';
import { RUNNER_LIMITS } from './consume/limits';

describe('runner arguments', () => {
  it('reads every flag, in both spellings', () => {
    expect(parseRunnerArgs(['--concurrency', '3', '--work-dir=/w', '--config', 'c.yaml', '--idle-exit', '60', '--shutdown-grace=0'], {})).toEqual({
      concurrency: 3,
      workRoot: '/w',
      configFile: 'c.yaml',
      idleExitMs: 60_000,
      graceMs: 0,
    });
  });

  it('takes the environment below the flags, and defaults', () => {
    const a = parseRunnerArgs([], { PDR_RUNNER_CONCURRENCY: '2', PDR_WORK_DIR: '/env' });
    expect(a).toMatchObject({ concurrency: 2, workRoot: '/env', graceMs: RUNNER_LIMITS.SHUTDOWN_GRACE_MS });
    expect(parseRunnerArgs(['--concurrency', '5'], { PDR_RUNNER_CONCURRENCY: '2' }).concurrency).toBe(5);
  });

  it.each([
    [['--frobnicate'], /^Unknown option '--frobnicate' \(known: --concurrency N/],
    [['--concurrency'], /^Option '--concurrency <value>' argument missing/],
    [['--concurrency', '0'], /^--concurrency must be a positive integer, got "0"$/],
    [['--concurrency=two'], /^--concurrency must be a positive integer, got "two"$/],
    [['--idle-exit', '-5'], /^Option '--idle-exit' argument is ambiguous \(known: /],
    [['--shutdown-grace', '1.5'], /^--shutdown-grace must be a whole number of seconds, got "1.5"$/],
    [['--work-dir='], /^--work-dir needs a value \(known: /],
    [['stray'], /^Unexpected argument 'stray'/],
  ])('%j is a one-line error naming the flag', (argv, message) => {
    let err: Error | undefined;
    try {
      parseRunnerArgs(argv, {});
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).not.toContain('\n');
  });

  it('names a bad PDR_RUNNER_CONCURRENCY', () => {
    expect(() => parseRunnerArgs([], { PDR_RUNNER_CONCURRENCY: 'many' })).toThrow('PDR_RUNNER_CONCURRENCY must be a positive integer, got "many"');
  });
});

describe('runner modules', () => {
  // every executable a runner starts is forked from the runner's memory: NestJS (≈ 20 MB resident) has no
  // business there — the runner speaks the contract through @pdr/messaging/client
  it('load no NestJS (its built entry point; `npm test` builds first)', () => {
    const main = path.join(__dirname, '..', 'dist', 'main.js');
    expect(existsSync(main)).toBe(true);
    const code = "require(process.argv[1]); console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('/@nestjs/'))))";
    expect(JSON.parse(execFileSync(process.execPath, ['-e', code, main], { encoding: 'utf8' }))).toEqual([]);
  });
});
