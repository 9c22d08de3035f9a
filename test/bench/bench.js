#!/usr/bin/env node
'use strict';
/**
 * `npm run bench` (= npm run build && node test/bench/bench.js): the project's performance figures
 * against floors measured in the same run, on real MariaDB and NATS JetStream, with state, planner and
 * runners as child processes (`node apps/<svc>/dist/main.js`) whose VmRSS is sampled from /proc.
 *
 *  1. planning: gridSubmit of 10k and 100k points (rows in MariaDB + job events in JetStream), no runners,
 *     vs. a bare batched multi-row INSERT of as many rows + pipelined JetStream publish of as many messages
 *  2. status: median of 20 gridStatus queries of the 100k grid
 *  3. RSS of state (and planner) during the planning — four more 100k grids after the first tell memory
 *     that grows with the work from a heap that fluctuates — and of state and runners during the overhead run
 *  4. per-job overhead: a 200-point grid (1 onion species, instant mock executables) through the stack
 *     with 2 runners × concurrency 1, submit → all finished, vs. spawning the same executables the same
 *     number of times with parallelism 2 (once before and once after the stack run; the floor is the mean)
 *
 * Every figure: `name: value (floor: F, ratio: R, goal: G) OK|MISSED`; the last line of the output is
 * `overhead ratio: X`. Each phase has its own database (pdr_test_<random>) and NATS namespace; both,
 * the streams and the temp dir are removed at the end, also after a failure or Ctrl-C.
 *
 * Environment: PDR_DB_HOST/PORT/USERNAME/PASSWORD, PDR_NATS_URL (local defaults);
 * BENCH_POINTS (overhead grid size, default 200), BENCH_SKIP_100K=1 (planning of 10k only, quick look),
 * BENCH_PLAN_1M=1 (planning also plans a 10^6-point grid — many minutes — with its floor, RSS and gridStatus
 * of it, instead of the four 100k memory-check grids),
 * BENCH_ONLY=planning|overhead|storage (one part only), BENCH_STORAGE_JOBS (default 200),
 * BENCH_STORAGE_ROUNDS (SFTP rounds in turn with the floor, default 5), BENCH_RCLONE_JOBS (jobs of the rclone
 * figure, default all; test/bench/storage.js),
 * BENCH_NODE_ARGS="<flags>" (extra node flags for the services),
 * BENCH_CPU_PROF=<dir> (children write .cpuprofile files there), BENCH_TIMING=1 (children print where
 * their time went: test/bench/timing-preload.js), BENCH_KEEP=1 (keep the temp dir).
 * Exit code 0 when the bench ran (goals missed or not), 1 when it could not run.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');
const { names } = require('@pdr/contracts');
const { connectNats, ContractClient, decodeJson } = require('@pdr/messaging');
const { databaseEnv, dropDatabase } = require('@pdr/persistence');
const { testDatabaseSettings } = require('../support/database');
const { REPO, startService, waitHealthy, RssSampler, cpuSeconds, pidOf } = require('./procs');
const { execFloor, insertFloor, publishFloor } = require('./floors');
const { storagePhase, storageLines } = require('./storage');
const { loadPhase, loadReport } = require('./load');

const NATS_URL = process.env.PDR_NATS_URL || 'nats://127.0.0.1:4222';
const MOCK_BASE_DIR = path.join(REPO, 'deploy', 'kosmatau-mock');
/**
 * Executables of the overhead run and its floor. `sh` (default): test/bench/sh-kosmatau's shpdr and shonion,
 * a few shell built-ins that write the files KOSMA-tau writes — the real floor of a job's cost (a fork and
 * exec of sh, ~1-3 ms). `node` (BENCH_EXE=node): the Node mocks of deploy/kosmatau-mock, ~40 ms of Node
 * start-up per run, which hid most of the overhead in the floor.
 */
const EXE = process.env.BENCH_EXE || 'sh';
if (!['sh', 'node'].includes(EXE)) throw new Error(`BENCH_EXE="${EXE}": expected sh or node`);
const EXES = EXE === 'sh' ? { pdr: 'shpdr', onion: 'shonion' } : { pdr: 'mockpdr', onion: 'mockonion' };
let benchBaseDir = MOCK_BASE_DIR;
/** The mock base dir seen through a directory of links, with the sh executables beside the Node ones. */
function shBaseDir(root) {
  const dir = path.join(root, 'kosmatau-sh');
  fs.mkdirSync(dir, { recursive: true });
  for (const e of fs.readdirSync(MOCK_BASE_DIR)) fs.symlinkSync(path.join(MOCK_BASE_DIR, e), path.join(dir, e));
  for (const e of ['shpdr', 'shonion']) fs.symlinkSync(path.join(__dirname, 'sh-kosmatau', e), path.join(dir, e));
  return dir;
}
const OVERHEAD_POINTS = Number(process.env.BENCH_POINTS || 200);
/**
 * Further 100k grids planned after the timed one, to tell memory growth from heap fluctuation: the peaks of
 * the last two must stay within the envelope of the first three (a V8 heap moves by ±30 MB from one 100k
 * grid to the next here; a leak of 20 MB per grid would show as +40 MB).
 */
const MEMORY_CHECK_GRIDS = 4;
const PHYSICS = { alpha: 1.5, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} };
const SPECIES = ['CO'];
const RUNNERS = 2;
const RUNNER_CONCURRENCY = 1;
const STATUS_QUERIES = 20;
const TERMINAL = ['finished', 'skipped', 'problem', 'failed', 'cancelled'];
/** The watchdog: BENCH_BUDGET_MIN minutes (default 40: the load part takes most of it on a busy machine). */
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MIN || 40) * 60_000;

const GOALS = {
  /** stack ÷ floor of 200 quick jobs through 2 runners × 1 slot: ≤ 2 with the sh floor (issue 17), ≤ 1.5 with the Node mocks. */
  overheadRatio: EXE === 'sh' ? 2 : 1.5,
  plan10kMs: 3_000,
  plan100kMs: 15_000,
  statusMs: 100,
  rssMb: 300,
  /** 100k per point / 10k per point: "roughly linear". */
  linearity: 1.5,
  /** planning 10^6 points ≤ this × ten times the 100k figure (issue 17; BENCH_PLAN_1M=1). */
  plan1MVs100k: 1.2,
};

const say = (line) => process.stdout.write(`${line}\n`);
const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const load = () => `load ${os.loadavg()[0].toFixed(1)}`;
const r2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

/**
 * What a detached reaper (reaper.js) must remove if this process dies without cleaning up (out of
 * memory, SIGKILL): service pids, streams, databases, the temp dir. Written to <root>/reaper.json.
 */
const ledger = { file: null, data: { root: null, keepRoot: false, natsUrl: NATS_URL, pids: [], streams: [], databases: [] } };
function record(change) {
  change(ledger.data);
  if (ledger.file) fs.writeFileSync(ledger.file, JSON.stringify(ledger.data), { mode: 0o600 });
}
function startReaper(root) {
  ledger.file = path.join(root, 'reaper.json');
  record((d) => {
    d.root = root;
    d.keepRoot = Boolean(process.env.BENCH_KEEP);
  });
  const reaper = spawn(process.execPath, [path.join(__dirname, 'reaper.js'), String(process.pid), ledger.file], { detached: true, stdio: 'ignore', cwd: REPO });
  reaper.unref();
}

/** Everything to undo at the end, newest first. */
const cleanups = [];
let cleaning = null;
async function cleanup() {
  if (!cleaning) {
    cleaning = (async () => {
      while (cleanups.length) {
        const [what, fn] = cleanups.pop();
        try {
          await fn();
        } catch (err) {
          process.stderr.write(`bench: cleanup of ${what} failed: ${err.message}\n`);
        }
      }
    })();
  }
  return cleaning;
}

function gridRequest(modelName, axes, storageDir) {
  return {
    modelName,
    description: 'npm run bench',
    axes,
    mode: 'grid',
    random: null,
    user: { username: 'Bench', email: 'bench@example.org' },
    chemOrigin: 'mock',
    physics: PHYSICS,
    onionSpecies: SPECIES,
    run: {
      baseDir: benchBaseDir,
      pdrFileName: EXES.pdr,
      onionFileName: EXES.onion,
      chemDatabase: 'chem_rates_mock.dat',
      pdrinpTemplateFile: 'PDRNEW.INP.template',
      jsonTemplateFile: 'pdr_config.json.template',
      jsonTemplateOverride: null,
      storage: { type: 'local', baseDir: storageDir },
      forceOnion: false,
      keepTmp: false,
      timeouts: { pdrMs: 60_000, onionMs: 60_000 },
    },
  };
}

const range = (from, n, step = 1) => Array.from({ length: n }, (_, i) => String(from + i * step));

/** One installation: its own database and namespace, services as child processes. */
async function startInstallation(label, root, sampler, { runners }) {
  const ns = `bench${crypto.randomBytes(4).toString('hex')}`;
  const db = testDatabaseSettings();
  const dir = path.join(root, label);
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const env = {
    PDR_NATS_URL: NATS_URL,
    PDR_NATS_PREFIX: ns,
    ...databaseEnv(db),
    PDR_LOG_LEVEL: process.env.PDR_LOG_LEVEL || 'warn',
    PDR_LOG_DIR: '',
  };
  const nc = await connectNats({ url: NATS_URL, name: `bench-${label}`, reconnect: false });
  const streams = [names(ns).jobStream, `${ns.toUpperCase()}_FLOOR`];
  record((d) => {
    d.databases.push(db.database);
    d.streams.push(...streams);
  });
  const procs = [];
  const stopAll = async () => {
    // runners first, then planner, then state (each SIGTERM = graceful close)
    for (const p of [...procs].reverse()) await p.stop();
  };
  let closing = null;
  /** Stops the services, deletes the stream and drops the database (idempotent). */
  const close = () =>
    (closing ??= (async () => {
      await stopAll();
      for (const p of procs) {
        if (p.timingFile && fs.existsSync(p.timingFile)) say(`  timing of ${p.label} (BENCH_TIMING):\n${fs.readFileSync(p.timingFile, 'utf8').trimEnd().replace(/^/gm, '    ')}`);
      }
      await (await nc.jetstreamManager()).streams.delete(names(ns).jobStream).catch(() => undefined);
      await dropDatabase(db);
      await nc.drain();
      record((d) => {
        d.databases = d.databases.filter((x) => x !== db.database);
        d.streams = d.streams.filter((x) => !streams.includes(x));
        d.pids = d.pids.filter((x) => !procs.some((p) => p.pid === x));
      });
    })());
  cleanups.push([`installation ${label} (${ns}, ${db.database})`, close]);
  const add = (p) => {
    procs.push(p);
    record((d) => d.pids.push(p.pid));
    sampler.track(p);
    return p;
  };
  add(startService(`${label}-state`, 'state', { env, logDir, cwd: dir }));
  // state creates the database and the stream; the others start once it answers
  await waitHealthy(nc, ns, { state: 1 }, procs);
  add(startService(`${label}-planner`, 'planner', { env, logDir, cwd: dir }));
  for (let i = 0; i < runners; i++) {
    const work = path.join(dir, `work${i + 1}`);
    add(startService(`${label}-runner${i + 1}`, 'runner', { env, logDir, cwd: dir, args: ['--concurrency', String(RUNNER_CONCURRENCY), '--work-dir', work] }));
  }
  await waitHealthy(nc, ns, { state: 1, planner: 1, ...(runners ? { runner: runners } : {}) }, procs);
  // idle RSS of each service, the floor its RSS during the work is compared with
  sampler.mark(`idle-${label}`);
  await new Promise((r) => setTimeout(r, 1000));
  sampler.stop();
  const client = new ContractClient(nc, ns);
  const failIfDead = () => {
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.label} exited:\n${dead.tail()}`);
  };
  return { ns, db, dir, nc, client, procs, close, failIfDead, storageDir: path.join(dir, 'storage') };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Planning of 10k and 100k points, the status query and RSS during planning; floors of the same run. */
async function planningPhase(root, sampler, results) {
  const inst = await startInstallation('plan', root, sampler, { runners: 0 });
  const sizes = process.env.BENCH_SKIP_100K ? [10_000] : process.env.BENCH_PLAN_1M ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
  const planned = {};
  const AXES = {
    10_000: { metal: ['100'], dens: range(20, 100), mass: ['-10'], chi: range(0, 100) },
    100_000: { metal: ['100'], dens: range(20, 100), mass: range(-20, 10, 5), chi: range(0, 100) },
    1_000_000: { metal: ['100'], dens: range(20, 100), mass: range(-20, 100, 1), chi: range(0, 100) },
  };
  for (const n of sizes) {
    sampler.mark(`planning-${n}`);
    const req = gridRequest(`bench_plan_${n}`, AXES[n], inst.storageDir);
    const t0 = performance.now();
    const reply = await inst.client.request('gridSubmit', { v: 1, request: req, maxPoints: n }, { timeoutMs: 3_600_000 });
    const ms = performance.now() - t0;
    inst.failIfDead();
    if (reply.total !== n || reply.created !== n || reply.queued !== n) throw new Error(`gridSubmit of ${n} points replied ${JSON.stringify(reply)}`);
    const info = await (await inst.nc.jetstreamManager()).streams.info(names(inst.ns).jobStream);
    planned[n] = { ms, gridId: reply.gridId, streamMessages: info.state.messages };
    sampler.stop();
    const cpu = [...sampler.cpu(`planning-${n}`)].map(([l, sec]) => `${l.replace(/^plan-/, '')} ${sec.toFixed(1)} s`).join(', ');
    say(`  planned ${n} points in ${fmtMs(ms)} (grid ${reply.gridId}, ${info.state.messages} events in the stream; CPU ${cpu}; ${load()})`);
  }

  // memory: more grids of the same size after the first. RSS that grows with the work done climbs from
  // grid to grid; a V8 heap that only fluctuates (±30 MB between 100k grids here) stays in its envelope
  const again = [];
  if (sizes.includes(100_000) && !sizes.includes(1_000_000)) {
    for (let k = 1; k <= MEMORY_CHECK_GRIDS; k++) {
      sampler.mark(`planning-100000-again-${k}`);
      const req = gridRequest(`bench_plan_100000_again_${k}`, { metal: ['100'], dens: range(20, 100), mass: range(-20, 10, 5), chi: range(0, 100) }, inst.storageDir);
      const t0 = performance.now();
      const reply = await inst.client.request('gridSubmit', { v: 1, request: req }, { timeoutMs: 600_000 });
      again.push(performance.now() - t0);
      inst.failIfDead();
      sampler.stop();
      if (reply.total !== 100_000 || reply.created !== 100_000) throw new Error(`another 100k gridSubmit replied ${JSON.stringify(reply)}`);
      say(`  planned another 100000 points in ${fmtMs(again[k - 1])} (grid ${reply.gridId}, for the memory check; ${load()})`);
    }
  }
  const biggest = sizes[sizes.length - 1];
  const statusTimes = [];
  let counts;
  for (let i = 0; i < STATUS_QUERIES; i++) {
    const t0 = performance.now();
    const r = await inst.client.request('gridStatus', { v: 1, selector: { gridId: planned[biggest].gridId } });
    statusTimes.push(performance.now() - t0);
    counts = r.grid.counts;
  }
  if (counts.queued !== biggest) throw new Error(`gridStatus of the ${biggest} grid counted ${JSON.stringify(counts)}`);
  say(`  gridStatus of the ${biggest}-point grid: median ${fmtMs(median(statusTimes))} of ${STATUS_QUERIES} (min ${fmtMs(Math.min(...statusTimes))}, max ${fmtMs(Math.max(...statusTimes))}; ${load()})`);

  // floors, on the same server, after the services are idle
  const floors = {};
  for (const n of sizes) {
    const ins = await insertFloor({ db: inst.db, n, physics: PHYSICS });
    const pub = await publishFloor({ nc: inst.nc, ns: inst.ns, n });
    floors[n] = { ins, pub, ms: ins + pub };
    say(`  floor ${n}: INSERT ${fmtMs(ins)} + publish ${fmtMs(pub)} = ${fmtMs(ins + pub)} (${load()})`);
  }
  // a cheap floor for the status query: the same GROUP BYs without the service and the contract around it
  const statusFloor = await statusQueryFloor(inst.db, planned[biggest].gridId);

  results.planning = { sizes, planned, floors, statusTimes, statusFloor, biggest, again };
  await inst.close();
}

/**
 * Type and device of the filesystem holding `dir`, and for ext4 whether it has a journal: ext4 without one
 * skips inodes deleted in the last 60-360 s when it allocates a new one, so the file churn of many quick
 * jobs (a job directory created and removed per job) makes every file creation slower, for the runner and
 * the executables alike (docs/benchmarks.md).
 */
function describeFilesystem(dir) {
  try {
    const [type, source] = execFileSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', dir], { encoding: 'utf8' }).trim().split(/\s+/);
    if (type !== 'ext4') return `${type} (${source})`;
    let journal = 'journal unknown';
    try {
      const task = fs.readFileSync(`/sys/fs/ext4/${path.basename(source)}/journal_task`, 'utf8').trim();
      journal = task === '<none>' || task === '' ? 'no journal' : 'with journal';
    } catch {
      /* not exposed */
    }
    return `ext4 (${source}, ${journal})`;
  } catch {
    return 'unknown filesystem';
  }
}

/**
 * The median time of the GROUP BYs the status query is made of (a grid that owns all its member jobs:
 * status counts from the jobs' covering index, member count from grid_points), straight over mysql2.
 */
async function statusQueryFloor(db, gridId) {
  const mysql = require('mysql2/promise');
  const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
  try {
    const times = [];
    for (let i = 0; i < STATUS_QUERIES; i++) {
      const t0 = performance.now();
      await conn.query(
        `SELECT grid_id, status, COUNT(*) AS n, MIN(time_of_start), MAX(time_of_finish)
         FROM pdr_model_jobs WHERE grid_id IN (?) GROUP BY grid_id, status`,
        [gridId],
      );
      await conn.query(`SELECT grid_id, COUNT(*) AS n FROM grid_points WHERE grid_id IN (?) GROUP BY grid_id`, [gridId]);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await conn.end();
  }
}

/**
 * The overhead run through the stack, between two runs of the exec floor (same points, same parallelism):
 * the floor is their mean, so a change in the machine's load during the run weighs on both sides alike.
 */
async function overheadPhase(root, sampler, results) {
  const chi = Math.ceil(OVERHEAD_POINTS / 10);
  const axes = { metal: ['100'], dens: range(20, 10), mass: ['-10'], chi: range(0, chi) };
  const total = 10 * chi;
  const points = [];
  for (const dens of axes.dens) for (const c of axes.chi) points.push({ metal: '100', dens, mass: '-10', chi: c });
  const parallelism = RUNNERS * RUNNER_CONCURRENCY;
  const floorCpu = [];
  const floorRun = async (when) => {
    const floorRoot = path.join(root, `floor-${when}`);
    try {
      const { ms, cpuSec: cpu } = await execFloor({ root: floorRoot, baseDir: benchBaseDir, points, species: SPECIES, physics: PHYSICS, parallelism, chemDatabase: 'chem_rates_mock.dat', pdrExe: EXES.pdr, onionExe: EXES.onion });
      floorCpu.push(cpu);
      say(`  floor (${when}): ${total} × (${EXES.pdr} + ${EXES.onion} ${SPECIES.join(' ')}) with parallelism ${parallelism}: ${fmtMs(ms)} (CPU ${cpu.toFixed(2)} s: this process and its executables; ${load()})`);
      return ms;
    } finally {
      fs.rmSync(floorRoot, { recursive: true, force: true });
    }
  };
  const floorBefore = await floorRun('before');

  const inst = await startInstallation('run', root, sampler, { runners: RUNNERS });
  // the end is seen in the progress events (no polling load on state); a slow poll is the safety net
  let terminal = new Set();
  let wake = () => undefined;
  const progress = inst.nc.subscribe(names(inst.ns).progress('*'), {
    callback: (err, msg) => {
      if (err) return;
      const ev = decodeJson(msg.data);
      if (TERMINAL.includes(ev.status)) terminal.add(ev.jobId);
      if (terminal.size >= total) wake();
    },
  });
  /** One grid of `total` points through the stack, as sampler phase `phase`: its time, and when its end was seen in the progress events (undefined: by the poll). */
  const throughStack = async (model, phase) => {
    terminal = new Set();
    sampler.mark(phase);
    const t0 = performance.now();
    const sub = await inst.client.request('gridSubmit', { v: 1, request: gridRequest(model, axes, inst.storageDir) }, { timeoutMs: 120_000 });
    let grid;
    let doneAt;
    for (;;) {
      ({ grid } = await inst.client.request('gridStatus', { v: 1, selector: { gridId: sub.gridId } }));
      const c = grid.counts;
      if (c.pending + c.queued + c.running === 0) break;
      inst.failIfDead();
      if (performance.now() - t0 > 600_000) throw new Error(`${model} grid not done after 10 min: ${JSON.stringify(c)}`);
      await new Promise((r) => {
        const t = setTimeout(r, 2_000);
        wake = () => {
          doneAt ??= performance.now();
          clearTimeout(t);
          r();
        };
        if (terminal.size >= total) wake();
      });
    }
    wake = () => undefined;
    // the moment the last outcome was announced, else (an event lost) the moment the poll saw it
    const ms = (doneAt ?? performance.now()) - t0;
    sampler.stop();
    if (grid.counts.finished !== total) throw new Error(`${model} grid: ${JSON.stringify(grid.counts)} (expected ${total} finished)`);
    return { ms, doneAt };
  };
  // the servers' CPU too (MariaDB, nats-server: shared with any other run on this machine)
  const servers = { MariaDB: pidOf('mariadbd', 'mysqld'), 'nats-server': pidOf('nats-server') };
  const serverCpu = (pids) => Object.entries(pids).map(([k, pid]) => [k, pid ? cpuSeconds(pid) : null]);
  const servers0 = serverCpu(servers);
  const { ms: projectMs, doneAt } = await throughStack('bench_overhead', 'overhead');
  const seen = doneAt ? 'end seen in the progress events' : 'end seen by polling gridStatus';
  const split = sampler.cpuSplit('overhead');
  const cpu = [...sampler.cpu('overhead')]
    .map(([l, sec]) => {
      const us = split.get(l);
      return `${l.replace(/^run-/, '')} ${sec.toFixed(1)} s${us ? ` (user ${us.user.toFixed(1)}, sys ${us.sys.toFixed(1)})` : ''}`;
    })
    .join(', ');
  say(`  ${total} jobs through the stack (${RUNNERS} runners × concurrency ${RUNNER_CONCURRENCY}): ${fmtMs(projectMs)} (${seen}; ${load()})`);
  const serversUsed = serverCpu(servers).map(([k, c], i) => [k, c === null || servers0[i][1] === null ? null : c - servers0[i][1]]);
  const executablesCpu = [...split.values()].reduce((a, c) => a + (c.children ?? 0), 0);
  say(`  CPU used by the services meanwhile: ${cpu}; ${serversUsed.map(([k, c]) => `${k} ${c === null ? 'not visible' : `${c.toFixed(1)} s`}`).join(', ')}; the executables ${executablesCpu.toFixed(1)} s`);
  // the floor right after the timed run (the services idle meanwhile), as before it: the repeat below
  // would leave it other files to step over (docs/benchmarks.md: ext4's recently deleted inodes)
  const floorAfter = await floorRun('after');
  // the same work again, untimed: whether memory is flat is told by the two runs' peaks (a few seconds of
  // one run cannot tell V8 sizing its heap up from memory that grows with the work)
  const again = await throughStack('bench_overhead_again', 'overhead-again');
  say(`  the same ${total} jobs again (untimed, for the memory figures): ${fmtMs(again.ms)}`);
  progress.unsubscribe();
  await inst.close();
  // with every wait overlapped, the stack still needs its CPU: on this machine's cores, at least this long
  const stackCpu = [...sampler.cpu('overhead')].reduce((a, [, sec]) => a + sec, 0) + serversUsed.reduce((a, [, c]) => a + (c ?? 0), 0) + executablesCpu;
  const meanFloorCpu = floorCpu.reduce((a, b) => a + b, 0) / floorCpu.length;
  say(
    `  CPU per job: stack ${((stackCpu * 1000) / total).toFixed(1)} ms (services, MariaDB, nats-server, executables), floor ${((meanFloorCpu * 1000) / total).toFixed(1)} ms (its process and executables); ` +
      `on ${os.cpus().length} CPUs the stack's CPU alone takes ≥ ${fmtMs((stackCpu * 1000) / os.cpus().length)}, the floor's ${fmtMs((meanFloorCpu * 1000) / os.cpus().length)}`,
  );
  results.overhead = { total, projectMs, floorMs: (floorBefore + floorAfter) / 2, floorBefore, floorAfter };
}

function versions() {
  const v = { node: process.version, nproc: os.cpus().length, memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`, date: new Date().toISOString() };
  try {
    v.nats = execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    v.nats = 'nats-server --version not available';
  }
  return v;
}

async function serverVersions(nc) {
  const mysql = require('mysql2/promise');
  const db = testDatabaseSettings();
  const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  try {
    const [[{ v }]] = await conn.query('SELECT VERSION() AS v');
    return { mariadb: v, natsServer: nc.info?.version ?? '?' };
  } finally {
    await conn.end();
  }
}

function line(name, value, floor, ratio, goal, ok) {
  return `${name}: ${value} (floor: ${floor}, ratio: ${ratio}, goal: ${goal}) ${ok ? 'OK' : 'MISSED'}`;
}

/**
 * Peak RSS of a phase against the goal, and whether it is flat: the peak of the phase's second half within
 * max(10 MB, 10 %) of the first half's — or, when `thenPhases` (the same work repeated) were measured, the
 * highest peak of the last two repetitions within max(10 MB, 10 %) of the highest peak of all before them.
 * A 10 s phase is too short to tell V8 sizing its heap up from memory that grows with the work, and one
 * or two repetitions are not enough: a heap fluctuates by tens of MB from one 100k grid to the next.
 */
function rssLine(sampler, phase, label, name, context = '', thenPhases = []) {
  const s = sampler.summary(phase, label);
  if (!s) return `${name}: no samples`;
  const idle = sampler.summary(`idle-${label.split('-')[0]}`, label)?.peak ?? s.first;
  const then = thenPhases.map((ph) => sampler.summary(ph, label)).filter(Boolean);
  const peaks = [s.peak, ...then.map((t) => t.peak)];
  const tail = Math.min(2, peaks.length - 1);
  const [before, after] = then.length ? [Math.max(...peaks.slice(0, -tail)), Math.max(...peaks.slice(-tail))] : [s.firstHalfPeak, s.secondHalfPeak];
  const flat = after - before <= Math.max(10, 0.1 * before);
  const peak = Math.max(...peaks);
  const ok = peak <= GOALS.rssMb && flat;
  const shape = then.length
    ? `peaks of the first run and ${then.length} more of the same work: ${peaks.map((x) => x.toFixed(0)).join(', ')}, end ${then[then.length - 1].last.toFixed(0)}`
    : `1st half ${s.firstHalfPeak.toFixed(0)}, 2nd half ${s.secondHalfPeak.toFixed(0)}, end ${s.last.toFixed(0)}`;
  return line(
    name,
    `peak ${peak.toFixed(0)} MB (start ${s.first.toFixed(0)}, ${shape}${context}; ${flat ? 'flat' : 'growing'})`,
    `${idle.toFixed(0)} MB idle`,
    r2(s.peak / idle),
    `≤ ${GOALS.rssMb} MB and flat`,
    ok,
  );
}

function report(sampler, results) {
  const out = [];
  const p = results.planning;
  if (p) {
    for (const n of p.sizes.filter((x) => x <= 100_000)) {
      const ms = p.planned[n].ms;
      const f = p.floors[n].ms;
      const goal = n === 10_000 ? GOALS.plan10kMs : GOALS.plan100kMs;
      out.push(line(`planning ${n / 1000}k points`, fmtMs(ms), fmtMs(f), r2(ms / f), `≤ ${fmtMs(goal)}`, ms <= goal));
    }
    if (p.planned[1_000_000]) {
      const ms = p.planned[1_000_000].ms;
      const goal = GOALS.plan1MVs100k * 10 * p.planned[100_000].ms;
      out.push(line('planning 1M points', fmtMs(ms), fmtMs(p.floors[1_000_000].ms), r2(ms / p.floors[1_000_000].ms), `≤ ${GOALS.plan1MVs100k} × 10 × the 100k figure = ${fmtMs(goal)}`, ms <= goal));
    }
    if (p.sizes.length >= 2) {
      const lin = p.planned[100_000].ms / 100_000 / (p.planned[10_000].ms / 10_000);
      const flin = p.floors[100_000].ms / 100_000 / (p.floors[10_000].ms / 10_000);
      out.push(line('planning per point, 100k vs 10k', `×${r2(lin)}`, `×${r2(flin)}`, r2(lin / flin), `≤ ×${GOALS.linearity} (roughly linear)`, lin <= GOALS.linearity));
    }
    const med = median(p.statusTimes);
    if (p.again.length) {
      // planning must not slow down as the database fills (a query plan that flipped once made the third grid 3× slower)
      const first = p.planned[100_000].ms;
      const last = p.again[p.again.length - 1];
      const growth = last / first;
      out.push(
        line(
          `planning 100k points with up to ${p.again.length * 100}k more already in the database`,
          `${p.again.map(fmtMs).join(', ')} (the first 100k: ${fmtMs(first)})`,
          'none (the first 100k grid is the reference)',
          r2(growth),
          `last ≤ ×${GOALS.linearity} the first (linear as the database grows)`,
          growth <= GOALS.linearity,
        ),
      );
    }
    out.push(line(`gridStatus ${p.biggest / 1000}k grid (median of ${STATUS_QUERIES})`, fmtMs(med), `${fmtMs(p.statusFloor)} bare GROUP BYs`, r2(med / p.statusFloor), `≤ ${GOALS.statusMs} ms`, med <= GOALS.statusMs));
    for (const svc of ['state', 'planner']) {
      const small = p.sizes.length > 1 ? sampler.summary('planning-10000', `plan-${svc}`) : null;
      const mid = p.planned[1_000_000] ? sampler.summary('planning-100000', `plan-${svc}`) : null;
      // 1M: memory that grew with the points would climb from the 1st half of the run to the 2nd (500k points apart)
      const context = (small ? `; 10k grid: peak ${small.peak.toFixed(0)}` : '') + (mid ? `; 100k grid: peak ${mid.peak.toFixed(0)}` : '');
      out.push(rssLine(sampler, `planning-${p.biggest}`, `plan-${svc}`, `RSS ${svc}, planning ${p.biggest / 1000}k`, context, p.again.map((_, k) => `planning-100000-again-${k + 1}`)));
    }
  }
  const o = results.overhead;
  if (o) {
    const twice = `, ${results.overhead.total} jobs twice`;
    out.push(rssLine(sampler, 'overhead', 'run-state', 'RSS state, overhead run', twice, ['overhead-again']));
    out.push(rssLine(sampler, 'overhead', 'run-planner', 'RSS planner, overhead run', twice, ['overhead-again']));
    for (let i = 1; i <= RUNNERS; i++) out.push(rssLine(sampler, 'overhead', `run-runner${i}`, `RSS runner ${i}, overhead run`, twice, ['overhead-again']));
    const ratio = o.projectMs / o.floorMs;
    const perJob = (o.projectMs - o.floorMs) / (o.total / (RUNNERS * RUNNER_CONCURRENCY));
    out.push(
      line(
        `overhead run, ${o.total} jobs`,
        `${fmtMs(o.projectMs)} (${fmtMs(o.projectMs / o.total)} per job; ≈${fmtMs(perJob)} added per job and slot)`,
        `${fmtMs(o.floorMs)} = mean of ${fmtMs(o.floorBefore)} before and ${fmtMs(o.floorAfter)} after`,
        r2(ratio),
        `ratio ≤ ${GOALS.overheadRatio}`,
        ratio <= GOALS.overheadRatio,
      ),
    );
  }
  if (results.load) out.push(...loadReport(results.load, results.heartbeats));
  return out;
}

async function main() {
  const started = Date.now();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: over the budget of ${BUDGET_MS / 60_000} min, stopping\n`);
    cleanup().finally(() => process.exit(1));
  }, BUDGET_MS);
  watchdog.unref();

  const nc = await connectNats({ url: NATS_URL, name: 'bench', reconnect: false }).catch((err) => {
    throw new Error(`NATS at ${NATS_URL} is not reachable (${err.message}); start nats-server -js or set PDR_NATS_URL`);
  });
  cleanups.push(['NATS connection', () => nc.drain()]);
  const sv = await serverVersions(nc).catch((err) => {
    throw new Error(`MariaDB is not reachable (${err.message}); set PDR_DB_HOST/PORT/USERNAME/PASSWORD`);
  });
  try {
    await (await nc.jetstreamManager()).getAccountInfo();
  } catch (err) {
    throw new Error(`NATS at ${NATS_URL} has no JetStream (${err.message}); start it with -js`);
  }
  const v = { ...versions(), ...sv };
  say(`machine: ${v.nproc} CPUs, ${v.memory}, node ${v.node}, MariaDB ${v.mariadb}, NATS server ${v.natsServer}, ${v.date}`);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-bench-'));
  startReaper(root);
  if (!process.env.BENCH_KEEP) cleanups.unshift(['temp dir', () => fs.rmSync(root, { recursive: true, force: true })]);
  else say(`temp dir (kept): ${root}`);
  say(`files (job dirs, storage, floor): ${root} on ${describeFilesystem(root)}`);
  if (EXE === 'sh') benchBaseDir = shBaseDir(root);
  say(`executables of the overhead run and its floor: ${EXES.pdr}, ${EXES.onion} (BENCH_EXE=${EXE})`);
  const sampler = new RssSampler(100);
  cleanups.push(['RSS sampler', () => sampler.close()]);
  const results = {};

  const parts = (process.env.BENCH_ONLY || 'storage,planning,overhead,load').split(',').map((x) => x.trim());
  for (const p of parts) if (!['storage', 'planning', 'overhead', 'load'].includes(p)) throw new Error(`BENCH_ONLY="${process.env.BENCH_ONLY}": expected a comma-separated list of storage, planning, overhead, load`);
  if (parts.includes('storage')) {
    say('storage (SFTP and rclone to a private sshd on loopback; test/bench/storage.js):');
    results.storage = await storagePhase(root, say);
  }
  if (parts.includes('planning')) {
    say('planning (state + planner, no runners):');
    await planningPhase(root, sampler, results);
  }
  if (parts.includes('overhead')) {
    say(`overhead run (state + planner + ${RUNNERS} runners):`);
    await overheadPhase(root, sampler, results);
  }
  if (parts.includes('load')) {
    say('load (virtual runners: the runner contract without executables; state instances as processes):');
    await loadPhase({ root, record, say, results });
  }
  await cleanup();

  say('');
  say(`results (${((Date.now() - started) / 1000).toFixed(0)} s in all):`);
  for (const l of report(sampler, results)) say(l);
  for (const l of storageLines(results.storage, line, fmtMs, r2)) say(l);
  if (results.overhead) say(`overhead ratio: ${r2(results.overhead.projectMs / results.overhead.floorMs)}`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    process.stderr.write(`bench: ${sig}, cleaning up\n`);
    cleanup().finally(() => process.exit(130));
  });
}

main().then(
  () => process.exit(0),
  async (err) => {
    process.stderr.write(`bench: error: ${err.message}\n`);
    await cleanup();
    process.exit(1);
  },
);
