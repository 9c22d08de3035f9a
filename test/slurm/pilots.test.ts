/**
 * Runners as Slurm pilot jobs on a real single-node Slurm (.ci/services/slurm.sh installs and starts it
 * when missing; this test calls it and fails when it cannot). State and planner run in this process on a
 * namespace of their own with NO runner: every job is run by a pilot that `pdr slurm` submitted.
 *  - `pdr slurm submit --print` shows what the config and the flags say
 *  - a grid finishes on pilots, which then exit idle: squeue is empty
 *  - scancel of a pilot while its job runs: the job is handed back and finishes once, elsewhere
 *  - a pilot whose time limit is shorter than the jobs starts none of them; a later pilot runs them
 *  - `pdr slurm scale --max 2` submits pilots for the backlog, the grid finishes, the pilots leave
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import type { RpcReply } from '@pdr/contracts';
import { NATS_URL } from '../support/env';
import { REPO, runCli, spawnProc, SERVICE_MAIN, cleanEnv, waitFor, type Proc } from '../support/processes';
import { startStack, type Stack } from '../support/stack';

jest.setTimeout(600_000);

const SLURM_SH = resolve(REPO, '.ci/services/slurm.sh');
const jobName = `pdr-t${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'pdr-slurm-'));
const logs = join(dir, 'logs');
let stack: Stack;

function squeue(): Array<{ id: string; state: string }> {
  const out = execFileSync('squeue', ['-h', '--name', jobName, '-o', '%i|%T'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, state] = l.split('|');
      return { id, state };
    });
}

function pilotLogs(): string {
  let text = '';
  for (const f of readdirSync(logs)) text += `--- ${f}\n${readFileSync(join(logs, f), 'utf8')}\n`;
  return text;
}

const config = join(dir, 'slurm.yaml');

function pdrSlurm(args: string[], env: Record<string, string> = {}) {
  return runCli(['slurm', ...args], {
    cwd: dir,
    env: { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: stack.ns, PDR_LOG_FORMAT: 'text', ...env },
    timeoutMs: 60_000,
  });
}

const grids: number[] = [];
async function submitGrid(over: Parameters<Stack['request']>[0]): Promise<number> {
  const r = await stack.client.request('gridSubmit', { v: 1, request: stack.request(over) });
  grids.push(r.gridId);
  return r.gridId;
}

async function jobsOf(gridId: number): Promise<RpcReply<'jobGet'>[]> {
  const { jobs } = await stack.client.request('jobsQuery', { v: 1, gridId });
  return Promise.all(jobs.map((j) => stack.client.request('jobGet', { v: 1, jobId: j.jobId })));
}

async function waitNoPilots(timeoutMs: number): Promise<void> {
  await waitFor(`pilots of ${jobName} to leave squeue`, () => squeue().length === 0, timeoutMs, 1000).catch((err) => {
    throw new Error(`${(err as Error).message}\nsqueue: ${JSON.stringify(squeue())}\n${pilotLogs()}`);
  });
}

beforeAll(async () => {
  // the single-node cluster: installed and started when missing (as CI does)
  execFileSync('bash', [SLURM_SH], { stdio: 'pipe' });
  execFileSync('mkdir', ['-p', logs]);
  writeFileSync(
    config,
    [
      'slurm:',
      `  job_name: ${jobName}`,
      '  partition: debug',
      '  time: "00:05:00"',
      '  cpus_per_task: 1',
      '  mem: 500M',
      '  extra_directives: ["--comment=pdr-test", "#SBATCH --open-mode=append"]',
      '  setup: ["export PDR_TEST_SETUP=done", "ulimit -c 0"]',
      '  signal_seconds: 20',
      `  work_dir: ${join(dir, 'scratch')}`,
      `  log_dir: ${logs}`,
      '  idle_exit_seconds: 5',
      '  scale_cooldown_seconds: 5',
      '',
    ].join('\n'),
  );
  stack = await startStack({ runners: 0 });
});

afterEach(async () => {
  execFileSync('scancel', ['--name', jobName]);
  // a test that failed half-way leaves no job for the next test's pilots
  for (const gridId of grids.splice(0)) await stack.client.request('plannerCancel', { v: 1, selector: { gridId }, kill: true });
});

afterAll(async () => {
  execFileSync('scancel', ['--name', jobName]);
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('pdr slurm submit --print renders the directives, setup lines and slots of the config, flags first', async () => {
  const r = await pdrSlurm(['submit', '--print', '--config', config, '--qos', 'short', '--cpus-per-task', '3']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe('#!/bin/bash');
  const directives = lines.filter((l) => l.startsWith('#SBATCH'));
  expect(directives).toEqual([
    `#SBATCH --job-name=${jobName}`,
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=3',
    '#SBATCH --time=00:05:00',
    '#SBATCH --partition=debug',
    '#SBATCH --qos=short',
    '#SBATCH --mem=500M',
    '#SBATCH --signal=B:USR1@20',
    `#SBATCH --output=${logs}/%x-%j.out`,
    '#SBATCH --comment=pdr-test',
    '#SBATCH --open-mode=append',
  ]);
  // setup lines in order, before the runner starts
  const setupAt = lines.indexOf('export PDR_TEST_SETUP=done');
  expect(lines[setupAt + 1]).toBe('ulimit -c 0');
  const runnerLine = lines.find((l) => l.includes(SERVICE_MAIN.runner))!;
  expect(lines.indexOf(runnerLine)).toBeGreaterThan(setupAt);
  // one runner, one slot per CPU of the allocation, on the configured scratch, idle exit, no grace at SIGTERM
  expect(runnerLine).toContain('--concurrency "${SLURM_CPUS_PER_TASK:-3}"');
  expect(runnerLine).toContain('--idle-exit 5 --shutdown-grace 0');
  expect(lines).toContain(`work="${join(dir, 'scratch')}/pdr-runner-\${SLURM_JOB_ID}"`);
  expect(lines).toContain(`export PDR_NATS_PREFIX='${stack.ns}'`);
  expect(r.stdout).toContain('trap \'kill -USR1 "$runner" 2>/dev/null\' USR1');
  // --print submits nothing
  expect(squeue()).toEqual([]);
  // credentials never reach the script (Slurm keeps it readable): sbatch passes the environment
  const secret = await pdrSlurm(['submit', '--print', '--config', config], { PDR_NATS_URL: 'nats://cli:Pilot-s3cret@nats.example:4222', PDR_NATS_TOKEN: 'Pilot-t0ken' });
  expect(secret.code).toBe(0);
  expect(secret.stdout).not.toMatch(/Pilot-s3cret|Pilot-t0ken|PDR_NATS_URL/);
  // a bad value is a one-line error naming it
  const bad = await pdrSlurm(['submit', '--print', '--config', config, '--time', 'soon']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/^pdr: error: command-line flag: slurm\.time: must be a Slurm time limit/);
});

it('a grid with no runners finishes on two pilots, which then exit idle', async () => {
  const gridId = await submitGrid({ modelName: 'slurm_pilots' });
  const r = await pdrSlurm(['submit', '--config', config, '--runners', '2']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^submitted pilot \d+ \(1 slot\)\nsubmitted pilot \d+ \(1 slot\)\n$/);
  const status = await stack.waitIdle(gridId, 240_000);
  expect(status.grid.counts).toEqual(expect.objectContaining({ finished: 6, pending: 0, queued: 0, running: 0, failed: 0, problem: 0 }));
  // the jobs were run by the pilots' runners (Slurm jobs), in their job directories on the configured scratch
  const jobs = await jobsOf(gridId);
  const runners = new Set(jobs.map((j) => j.job.runnerId));
  expect(runners.size).toBeGreaterThanOrEqual(1);
  await waitNoPilots(120_000);
  expect(pilotLogs()).toMatch(/nothing to pull for the idle time: stopping/);
  expect(readdirSync(join(dir, 'scratch'))).toEqual([]); // each pilot removed its work dir
});

it('scancel of a pilot while its job runs: the job is handed back and finishes once', async () => {
  const gridId = await submitGrid({ modelName: 'slurm_scancel', axes: { dens: ['30'], chi: ['10'] }, onionSpecies: ['CO'] });
  const first = await pdrSlurm(['submit', '--config', config], { MOCK_PDR_SECONDS: '25' });
  expect(first.code).toBe(0);
  const pilot = /submitted pilot (\d+)/.exec(first.stdout)![1];
  await waitFor('the job to run on the pilot', async () => (await stack.client.request('gridStatus', { v: 1, selector: { gridId } })).grid.counts.running === 1, 120_000, 500);
  // pdr slurm status: the pilot, its node, slots and the job it runs
  const st = await pdrSlurm(['status', '--config', config, '--json']);
  expect(st.code).toBe(0);
  expect(JSON.parse(st.stdout)).toEqual([expect.objectContaining({ jobId: pilot, state: 'RUNNING', node: expect.any(String), slots: 1, running: 1, claiming: true })]);
  const stop = await pdrSlurm(['stop', '--config', config, pilot]);
  expect(stop.code).toBe(0);
  expect(stop.stdout).toContain(`stopping ${pilot}: running jobs are handed back`);
  await waitFor('the stopped pilot to leave squeue', () => !squeue().some((p) => p.id === pilot), 120_000, 500);
  // handed back: queued again for another runner (or, should the runner have been killed before it could
  // say so, taken back by the reconciler once its heartbeat is stale: queued again too, the attempt failed)
  const handed = await waitFor('the job queued again', async () => {
    const [j] = await jobsOf(gridId);
    return j.job.status === 'queued' ? j : null;
  }, 150_000, 500);
  expect(handed.attempts).toEqual([
    expect.objectContaining({ attempt: 1, ...(handed.attempts[0].status === 'queued' ? { reason: expect.stringMatching(/runner shut down$/) } : { status: 'failed', reason: expect.stringMatching(/heartbeat/) }) }),
  ]);
  // another pilot (quick this time) runs it to the end
  const second = await pdrSlurm(['submit', '--config', config]);
  expect(second.code).toBe(0);
  const status = await stack.waitIdle(gridId, 240_000);
  expect(status.grid.counts.finished).toBe(1);
  const [done] = await jobsOf(gridId);
  expect(done.attempts.map((a) => a.status)).toEqual([handed.attempts[0].status, 'finished']);
  await waitNoPilots(120_000);
});

it('a pilot whose time limit is shorter than the jobs starts none; a pilot with time enough runs them, none is killed', async () => {
  // jobs take 70 s (the grid's timeouts say up to 100 s + 10 s); the first pilot has 1 minute in all
  const gridId = await submitGrid({
    modelName: 'slurm_walltime',
    axes: { dens: ['30', '40'], chi: ['10'] },
    onionSpecies: ['CO'],
    run: { timeouts: { pdrMs: 100_000, onionMs: 10_000 } },
  });
  const short = await pdrSlurm(['submit', '--config', config, '--time', '1', '--signal-seconds', '10'], { MOCK_PDR_SECONDS: '70' });
  expect(short.code).toBe(0);
  const shortId = /submitted pilot (\d+)/.exec(short.stdout)![1];
  // it looks, claims nothing and leaves long before its limit
  await waitFor('the short pilot to leave', () => !squeue().some((p) => p.id === shortId), 90_000, 500);
  expect(pilotLogs()).toMatch(/time left in the allocation is shorter than the jobs waiting/);
  let jobs = await jobsOf(gridId);
  expect(jobs.map((j) => [j.job.status, j.attempts.length])).toEqual([
    ['queued', 0],
    ['queued', 0],
  ]);
  // the replacement has time enough (5 min, 2 slots): both run once, to the end
  const long = await pdrSlurm(['submit', '--config', config, '--cpus-per-task', '2'], { MOCK_PDR_SECONDS: '70' });
  expect(long.code).toBe(0);
  const status = await stack.waitIdle(gridId, 300_000);
  expect(status.grid.counts.finished).toBe(2);
  jobs = await jobsOf(gridId);
  for (const j of jobs) expect(j.attempts.map((a) => a.status)).toEqual(['finished']);
  await waitNoPilots(120_000);
});

it('pdr slurm scale --max 2: pilots follow the backlog, the grid finishes, the pilots leave, squeue is empty', async () => {
  const gridId = await submitGrid({ modelName: 'slurm_scale', axes: { dens: ['30', '40', '50'], chi: ['10', '20'] } });
  const scaler: Proc = spawnProc(process.execPath, [SERVICE_MAIN.cli, 'slurm', 'scale', '--config', config, '--max', '2'], {
    name: 'pdr slurm scale',
    cwd: dir,
    env: cleanEnv({ PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: stack.ns, MOCK_PDR_SECONDS: '3' }),
  });
  try {
    await scaler.waitForLine(/submitted pilot \d+/, 60_000);
    // never more than --max pilots queued + running
    const seen: number[] = [];
    const watch = setInterval(() => seen.push(squeue().length), 1000);
    const status = await stack.waitIdle(gridId, 300_000);
    expect(status.grid.counts.finished).toBe(6);
    await waitNoPilots(120_000);
    clearInterval(watch);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(scaler.output().match(/submitted pilot/g)!.length).toBeGreaterThanOrEqual(1);
    // with the queue empty, it submits nothing more
    await new Promise((r) => setTimeout(r, 12_000));
    expect(squeue()).toEqual([]);
  } finally {
    await scaler.stop(10_000);
  }
  expect(scaler.exitCode).toBe(0);
});

it('pdr slurm scale replaces pilots before their time runs out; no job is killed by a time limit', async () => {
  // 8 jobs of ~25 s on 1-slot pilots of 2 minutes, warned 60 s before their end. The scaler replaces a pilot with
  // less than 60 s + two rounds (80 s) left, i.e. 40 s into its life; each pilot has ~75 s of work before the
  // warning stops its claims, so the replacement is always queued while the pilot still runs (with 15 s jobs the
  // work ended near the 40 s mark and a loaded machine could let the pilots finish before the scaler's round)
  const gridId = await submitGrid({
    modelName: 'slurm_replace',
    axes: { dens: ['30', '40', '50', '60'], chi: ['10', '20'] },
    onionSpecies: ['CO'],
    run: { timeouts: { pdrMs: 50_000, onionMs: 5_000 } },
  });
  const scaler: Proc = spawnProc(process.execPath, [SERVICE_MAIN.cli, 'slurm', 'scale', '--config', config, '--max', '2', '--time', '2', '--signal-seconds', '60'], {
    name: 'pdr slurm scale',
    cwd: dir,
    env: cleanEnv({ PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: stack.ns, MOCK_PDR_SECONDS: '25' }),
  });
  const seen: Array<Array<{ id: string; state: string }>> = [];
  const watch = setInterval(() => seen.push(squeue()), 1000);
  try {
    const status = await stack.waitIdle(gridId, 480_000);
    expect(status.grid.counts.finished).toBe(8);
    await waitNoPilots(180_000);
  } finally {
    clearInterval(watch);
    await scaler.stop(10_000);
  }
  // replacements were queued while the pilots they replace still ran
  const overlap = seen.some((q) => q.filter((p) => p.state === 'RUNNING').length > 0 && q.length > q.filter((p) => p.state === 'RUNNING').length);
  expect({ overlap, scaler: scaler.output() }).toEqual({ overlap: true, scaler: expect.stringMatching(/ending \d+/) });
  // every job ran once, to the end; no pilot met its time limit
  for (const j of await jobsOf(gridId)) expect(j.attempts.map((a) => a.status)).toEqual(['finished']);
  expect(pilotLogs()).not.toMatch(/DUE TO TIME LIMIT/);
});
