'use strict';
/**
 * `npm run bench`, part "load": what the state service and the bus sustain when many runner slots work at
 * once, with virtual runners (load-generator.js: the real runner contract, no executables) on a
 * nats-server of the bench's own (its /varz counts every message of the run, and no other session's
 * traffic) and state instances as child processes on one database.
 *
 * Runs: 200, 1 000 and 5 000 slots against one state instance; 1 000 slots against 2 and 3 instances.
 * Per run: lifecycles per second (claim → finish) from the fleet's start to the last outcome, p50/p99 of
 * claim and finish latency, peak database connections (MariaDB's processlist, sampled every 50 ms),
 * NATS messages per job (the server's in + out messages), claims refused as busy (admission control).
 * Floor: the SQL of the same lifecycles (claim compare-and-set transaction, finish transaction with the
 * same file records) issued bare over mysql2, with as many connections as the state instances' pools
 * together, on the same database before the run (services idle, no fleet) and after it (the grid's jobs
 * set back to queued each time); the floor is the mean of the two.
 *
 * Environment: BENCH_LOAD_SLOTS (default "200,1000,5000"), BENCH_LOAD_STATES ("1,2,3"), BENCH_LOAD_STATES_SLOTS
 * (1000: the slots of the instance-count runs), BENCH_LOAD_JOBS (jobs per run; default max(1000, slots)),
 * BENCH_LOAD_DURATION (job duration: fixed:<ms>, uniform:<a>-<b>, exp:<mean>; default uniform:0-200),
 * BENCH_LOAD_SLOTS_PER_RUNNER (50); heartbeat runs: BENCH_LOAD_HEARTBEAT_SLOTS ("500,2000"; "0" for none),
 * BENCH_LOAD_HEARTBEAT_MS (5000), BENCH_LOAD_HEARTBEAT_JOB_MS (600000: the jobs outlast the measurement).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { fetch } = globalThis; // Node ≥ 18
const { names } = require('@pdr/contracts');
const { connectNats, ContractClient } = require('@pdr/messaging');
const { testDatabaseSettings } = require('../support/database');
const { databaseEnv, dropDatabase, setStatusSql } = require('@pdr/persistence');
const { claimStatements } = require('../../apps/state/dist/jobs/claim-job');
const { finishCasStatements, finishWriteStatements } = require('../../apps/state/dist/jobs/finish-job');
const { startService, waitHealthy, REPO, cpuSeconds, pidOf } = require('./procs');
const { startVirtualRunners, watchConnections, fileRecords } = require('./load-generator');

const MOCK_BASE_DIR = path.join(REPO, 'deploy', 'kosmatau-mock');
/** The state service's pool when nothing configures it (the config's pool_size default, as state reads it). */
const POOL = require('../../apps/state/dist/main').databaseSettings({}).poolMax ?? require('@pdr/persistence').DEFAULT_POOL_MAX;
const GOALS = { rateVsFloor: 0.7 };

/** MariaDB's server process (CPU of the run; null when it runs elsewhere or is not visible). */
const mariadbPid = () => pidOf('mariadbd', 'mysqld');

/**
 * CPU seconds used so far by the processes of a run: state instances, this process (the virtual fleet, or
 * the floor's mysql2 client), the bench's nats-server, MariaDB. `since(before)` gives ms per lifecycle.
 */
function cpuNow(pids) {
  const u = process.cpuUsage();
  const out = { bench: (u.user + u.system) / 1e6 };
  for (const [k, pid] of Object.entries(pids)) {
    const ss = (Array.isArray(pid) ? pid : [pid]).map((p) => (p ? cpuSeconds(p) : null));
    out[k] = ss.some((x) => x === null) ? null : ss.reduce((a, b) => a + b, 0);
  }
  return out;
}
function cpuPerJob(before, after, n) {
  return Object.keys(after)
    .filter((k) => after[k] !== null && before[k] !== null && before[k] !== undefined)
    .map((k) => `${k} ${(((after[k] - before[k]) * 1000) / n).toFixed(1)}`)
    .join(', ');
}

const list = (v, d) => (v || d).split(',').map((x) => Number(x.trim())).filter((x) => x > 0);
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

function freePort() {
  const net = require('node:net');
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** A nats-server with JetStream and monitoring of the bench's own (loopback, free ports, store in `dir`). */
async function startOwnNats(dir, record) {
  const bin = process.env.PDR_TEST_NATS_SERVER || 'nats-server';
  const [port, mport] = [await freePort(), await freePort()];
  fs.mkdirSync(dir, { recursive: true });
  const log = fs.openSync(path.join(dir, 'nats-server.log'), 'a');
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-m', String(mport), '-js', '-sd', dir], { stdio: ['ignore', log, log], cwd: dir });
  fs.closeSync(log);
  record((d) => d.pids.push(child.pid));
  const url = `nats://127.0.0.1:${port}`;
  const monitor = `http://127.0.0.1:${mport}`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited: ${fs.readFileSync(path.join(dir, 'nats-server.log'), 'utf8').slice(-1000)}`);
    try {
      const r = await fetch(`${monitor}/varz`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error('nats-server did not start within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    record((d) => (d.pids = d.pids.filter((p) => p !== child.pid)));
  };
  const varz = async () => {
    const v = await (await fetch(`${monitor}/varz`)).json();
    return { msgs: v.in_msgs + v.out_msgs, inMsgs: v.in_msgs, outMsgs: v.out_msgs };
  };
  return { url, stop, varz, pid: child.pid };
}

function gridRequest(modelName, n, storageDir) {
  const chi = Array.from({ length: 50 }, (_, i) => String(i));
  const dens = Array.from({ length: Math.ceil(n / 50) }, (_, i) => String(10 + i));
  return {
    modelName,
    description: 'npm run bench (load)',
    axes: { metal: ['100'], dens, mass: ['-10'], chi },
    mode: 'grid',
    random: null,
    user: { username: 'Bench', email: 'bench@example.org' },
    chemOrigin: 'mock',
    physics: { alpha: 1.5, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} },
    onionSpecies: ['CO'],
    run: {
      baseDir: MOCK_BASE_DIR,
      pdrFileName: 'mockpdr',
      onionFileName: 'mockonion',
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

/**
 * The floor: the statements state issues for one quick job's claim and finish (apps/state/src/jobs/
 * claim-job.ts, finish-job.ts, executables already known), in the same transactions, over `conns` bare
 * mysql2 connections, for every job of the grid (set back to queued first). Returns lifecycles/s.
 * The statements are state's own (claimStatements, finishCasStatements, finishWriteStatements from
 * apps/state/dist/jobs), sent in state's packets (multi-statement queries): the claim as one (BEGIN …)
 * and its COMMIT, the finish as two (BEGIN, CAS, keys; the writes, COMMIT) — 4 round trips per lifecycle,
 * as state's. Not in it: what state does besides SQL (NATS, decoding and validating, progress events), which
 * is the cost the ratio shows.
 */
/** The grid's jobs back to queued, their attempts, steps and file rows gone (before a floor, and after the one before the run). */
async function resetGrid(admin, gridId, ids) {
  for (const t of ['job_steps', 'job_files', 'hdf_files', 'json_files', 'job_attempts']) await admin.query(`DELETE FROM ${t} WHERE job_id IN (?)`, [ids]);
  await admin.query(`UPDATE pdr_model_jobs SET ${setStatusSql('queued')}, attempt = 0, runner_id = NULL, heartbeat_at = NULL WHERE grid_id = ?`, [gridId]);
}

/** resetGrid on its own connection. */
async function resetGridOf(db, gridId) {
  const mysql = require('mysql2/promise');
  const admin = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
  try {
    const [rows] = await admin.query('SELECT id FROM pdr_model_jobs WHERE grid_id = ?', [gridId]);
    await resetGrid(admin, gridId, rows.map((r) => r.id));
  } finally {
    await admin.end();
  }
}

async function sqlFloor(db, gridId, conns) {
  const mysql = require('mysql2/promise');
  const admin = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
  const jobs = (
    await admin.query(
      `SELECT j.id, j.model_job_name, m.model_name FROM pdr_model_jobs j JOIN model_names m ON m.id = j.model_name_id WHERE j.grid_id = ? ORDER BY j.id`,
      [gridId],
    )
  )[0];
  await resetGrid(admin, gridId, jobs.map((j) => j.id));
  const [[exe]] = await admin.query('SELECT id FROM kosmatau_executables ORDER BY id LIMIT 1');
  await admin.end();
  const pool = await Promise.all(
    Array.from({ length: conns }, () => mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, multipleStatements: true })),
  );
  for (const c of pool) {
    await c.query(`SET time_zone = '+00:00', innodb_lock_wait_timeout = 10`);
    await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  }
  let next = 0;
  let retried = 0;
  /** One packet (a multi-statement query) of formatted statements; one result per statement. */
  const send = async (c, parts) => {
    const [res] = await c.query(parts.join(';\n'));
    return parts.length === 1 ? [res] : res;
  };
  const asSql = (c, stmts) => stmts.map((x) => c.format(x.sql, x.params));
  /** As state's packetTransaction: ROLLBACK after any failure; a deadlock or lock wait timeout runs it again (5 tries). */
  const txn = async (c, fn) => {
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        if (i >= 5 || ![1213, 1205].includes(err.errno)) throw err;
        retried++;
        await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20 * i)));
      }
    }
  };
  const one = async (c, j) => {
    await txn(c, () => claimSql(c, j));
    await txn(c, () => finishSql(c, j));
  };
  // state's own statements (apps/state/src/jobs, as built by `npm run bench`), in state's packets: the
  // claim one packet with BEGIN, then COMMIT; the finish the CAS + keys, then the writes + COMMIT
  const claimSql = async (c, j) => {
    const req = { runnerId: 'floor', jobId: j.id, generation: 0, delivery: 1 };
    const res = await send(c, ['BEGIN', ...asSql(c, claimStatements(req, { staleHeartbeatMs: 45_000 }))]);
    if (res[1].affectedRows !== 1) throw new Error(`floor: claim of job ${j.id} not applied`);
    await c.query('COMMIT');
  };
  const finishSql = async (c, j) => {
    const files = fileRecords({ run: { storage: { baseDir: '/floor' } }, modelName: j.model_name, jobName: j.model_job_name, onionSpecies: ['CO'] });
    const now = new Date().toISOString();
    const steps = ['setup-finished', 'pdr-started', 'pdr-finished', 'onion-finished', 'outputs-stored'].map((step) => ({ step, detail: {}, at: now }));
    const req = { jobId: j.id, attempt: 1, status: 'finished', reason: null, startedAt: now, finishedAt: now, executionMs: 100, files, steps, exitCodes: { pdr: 0, onion: { CO: 0 } }, executables: [] };
    const pdrExeId = exe ? exe.id : null;
    const res = await send(c, ['BEGIN', ...asSql(c, finishCasStatements(req, pdrExeId))]);
    if (res[1].affectedRows !== 1) throw new Error(`floor: finish of job ${j.id} not applied`);
    await send(c, [...asSql(c, finishWriteStatements(req, res[2][0], pdrExeId, [])), 'COMMIT']);
  };
  const cpu0 = cpuNow({ mariadb: mariadbPid() });
  const t0 = performance.now();
  await Promise.all(
    pool.map(async (c) => {
      while (next < jobs.length) await one(c, jobs[next++]);
    }),
  );
  const ms = performance.now() - t0;
  const cpu = cpuPerJob(cpu0, cpuNow({ mariadb: mariadbPid() }), jobs.length);
  await Promise.all(pool.map((c) => c.end()));
  return { rate: jobs.length / (ms / 1000), ms, conns, retried, cpu };
}

/**
 * With BENCH_CPU_PROF=<dir>, a CPU profile of this process (the virtual fleet) while the fleet runs, as
 * <dir>/<label>.cpuprofile beside the services' (procs.js); otherwise nothing.
 */
async function fleetProfiler(label) {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return { stop: async () => undefined };
  const { Session } = require('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await post('Profiler.stop');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** One configuration: `states` state instances, a planner, a grid of `jobs` points, `slots` virtual slots. */
async function loadRun({ root, record, say, nats, states, slots, jobs, duration, perRunner }) {
  const ns = `benchload${crypto.randomBytes(3).toString('hex')}`;
  const db = testDatabaseSettings();
  const dir = path.join(root, `load-${states}x${slots}`);
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  record((d) => d.databases.push(db.database));
  const env = { PDR_NATS_URL: nats.url, PDR_NATS_PREFIX: ns, ...databaseEnv(db), PDR_LOG_LEVEL: process.env.PDR_LOG_LEVEL || 'warn', PDR_LOG_DIR: '' };
  const procs = [];
  const nc = await connectNats({ url: nats.url, name: 'bench-load', reconnect: false });
  let watch = null;
  try {
    for (let i = 0; i < states; i++) {
      const p = startService(`load-state${i + 1}`, 'state', { env, logDir, cwd: dir });
      procs.push(p);
      record((d) => d.pids.push(p.pid));
      await waitHealthy(nc, ns, { state: i + 1 }, procs);
    }
    const planner = startService('load-planner', 'planner', { env, logDir, cwd: dir });
    procs.push(planner);
    record((d) => d.pids.push(planner.pid));
    await waitHealthy(nc, ns, { state: states, planner: 1 }, procs);
    const client = new ContractClient(nc, ns);
    const sub = await client.request('gridSubmit', { v: 1, request: gridRequest(`bench_load_${states}x${slots}`, jobs, path.join(dir, 'storage')) }, { timeoutMs: 300_000 });
    if (sub.queued !== sub.total) throw new Error(`load grid: ${JSON.stringify(sub)}`);
    const n = sub.total;
    // the floor once before the run (services up and idle, no fleet yet) and once after it: on a shared
    // machine the load moves within minutes, and one floor a minute after the run said little (ratios
    // 0.40-0.95 for the same code); the mean of the two is the floor, as in the overhead part
    const floorBefore = await sqlFloor(db, sub.gridId, POOL * states);
    await resetGridOf(db, sub.gridId);
    watch = await watchConnections(db, 50);
    const before = await nats.varz();
    const cpuPids = { state: procs.filter((p) => p.svc === 'state').map((p) => p.pid), nats: nats.pid, mariadb: mariadbPid() };
    const cpu0 = cpuNow(cpuPids);
    const profile = await fleetProfiler(`fleet-${states}x${slots}`);
    const t0 = performance.now();
    const fleet = await startVirtualRunners({ natsUrl: nats.url, ns, runners: Math.ceil(slots / perRunner), slots: Math.min(perRunner, slots), duration, label: `load${states}x${slots}` });
    let ms;
    try {
      await fleet.until((f) => f.outcomes.size >= n, 20 * 60_000, `load run ${states} × ${slots}`);
      ms = performance.now() - t0;
    } finally {
      await fleet.stop(10_000);
      await profile.stop();
    }
    const cpu = cpuPerJob(cpu0, cpuNow(cpuPids), n);
    const after = await nats.varz();
    await watch.stop();
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.label} exited during the load run:\n${dead.tail()}`);
    const r = {
      states,
      slots,
      jobs: n,
      ms,
      rate: n / (ms / 1000),
      claim: fleet.latencySummary('claim'),
      finish: fleet.latencySummary('finish'),
      peakConnections: watch.peak,
      pool: POOL * states,
      msgsPerJob: (after.msgs - before.msgs) / n,
      shed: fleet.counts.claimRetries,
      counts: fleet.counts,
      errors: fleet.errors,
      cpu,
    };
    say(
      `  ${states} state × ${slots} slots: ${n} lifecycles in ${fmt(ms)} = ${r.rate.toFixed(1)}/s; claim p50 ${fmt(r.claim.p50)} p99 ${fmt(r.claim.p99)}, finish p50 ${fmt(r.finish.p50)} p99 ${fmt(r.finish.p99)}; ` +
        `peak DB connections ${r.peakConnections} (pool ${r.pool}); ${r.msgsPerJob.toFixed(1)} NATS messages per job; claims refused as busy ${r.shed}; heartbeats ${fleet.counts.heartbeats}; error replies ${fleet.counts.errorReplies}; ` +
        `CPU ms per job: ${cpu} (bench = the virtual fleet); load ${require('node:os').loadavg()[0].toFixed(1)}`,
    );
    // stop the services before the floor: it must have the database to itself
    for (const p of [...procs].reverse()) await p.stop();
    const floorAfter = await sqlFloor(db, sub.gridId, POOL * states);
    const floor = { ...floorAfter, rate: (floorBefore.rate + floorAfter.rate) / 2, before: floorBefore, after: floorAfter };
    r.floor = floor;
    for (const [when, f] of [['before', floorBefore], ['after', floorAfter]]) {
      say(
        `  floor ${when} (bare SQL of ${n} claim + finish transactions over ${f.conns} mysql2 connections): ${fmt(f.ms)} = ${f.rate.toFixed(1)}/s (${f.retried} transactions retried after a deadlock); CPU ms per job: ${f.cpu} (bench = the mysql2 client); load ${require('node:os').loadavg()[0].toFixed(1)}`,
      );
    }
    return r;
  } finally {
    if (watch) await watch.stop().catch(() => undefined);
    for (const p of [...procs].reverse()) await p.stop();
    try {
      await (await nc.jetstreamManager()).streams.delete(names(ns).jobStream);
    } catch {
      /* gone */
    }
    await nc.close().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
    record((d) => {
      d.databases = d.databases.filter((x) => x !== db.database);
      d.pids = d.pids.filter((x) => !procs.some((p) => p.pid === x));
    });
  }
}

/**
 * Heartbeat load: `slots` slots all running long jobs (BENCH_LOAD_HEARTBEAT_JOB_MS, 10 min: they outlast the measurement), each sending
 * a heartbeat every BENCH_LOAD_HEARTBEAT_MS (5 s; production: LIMITS.HEARTBEAT_INTERVAL_MS = 10 s).
 * Answered heartbeats per second over the window in which every slot runs, against slots ÷ interval:
 * linear in running slots while state keeps up.
 */
async function heartbeatRun({ root, record, say, nats, slots, perRunner }) {
  const jobMs = Number(process.env.BENCH_LOAD_HEARTBEAT_JOB_MS || 600_000);
  const beatMs = Number(process.env.BENCH_LOAD_HEARTBEAT_MS || 5_000);
  const ns = `benchbeat${crypto.randomBytes(3).toString('hex')}`;
  const db = testDatabaseSettings();
  const dir = path.join(root, `beat-${slots}`);
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  record((d) => d.databases.push(db.database));
  const env = { PDR_NATS_URL: nats.url, PDR_NATS_PREFIX: ns, ...databaseEnv(db), PDR_LOG_LEVEL: process.env.PDR_LOG_LEVEL || 'warn', PDR_LOG_DIR: '' };
  const procs = [];
  const nc = await connectNats({ url: nats.url, name: 'bench-beat', reconnect: false });
  try {
    for (const svc of ['state', 'planner']) {
      const p = startService(`beat-${svc}`, svc, { env, logDir, cwd: dir });
      procs.push(p);
      record((d) => d.pids.push(p.pid));
      await waitHealthy(nc, ns, svc === 'state' ? { state: 1 } : { state: 1, planner: 1 }, procs);
    }
    const client = new ContractClient(nc, ns);
    const sub = await client.request('gridSubmit', { v: 1, request: gridRequest(`bench_beat_${slots}`, slots, path.join(dir, 'storage')) }, { timeoutMs: 300_000 });
    const fleet = await startVirtualRunners({ natsUrl: nats.url, ns, runners: Math.ceil(slots / perRunner), slots: Math.min(perRunner, slots), duration: `fixed:${jobMs}`, heartbeatMs: beatMs, label: `beat${slots}` });
    try {
      await fleet.until((f) => f.running >= sub.total, 10 * 60_000, `all ${sub.total} slots running`);
      const h0 = fleet.counts.heartbeats;
      const q0 = fleet.counts.heartbeatRequests;
      const l0 = fleet.latency.heartbeat.length;
      const windowMs = Math.max(beatMs * 3, 15_000);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, windowMs));
      const secs = (performance.now() - t0) / 1000;
      const rate = (fleet.counts.heartbeats - h0) / secs;
      const lat = fleet.latency.heartbeat.slice(l0);
      const { percentile } = require('./load-generator');
      const requests = (fleet.counts.heartbeatRequests - q0) / secs;
      const r = { slots, beatMs, expected: slots / (beatMs / 1000), rate, requests, p50: percentile(lat, 50), p99: percentile(lat, 99), running: fleet.running, errors: fleet.counts.heartbeatErrors };
      say(`  heartbeats, ${slots} running slots every ${beatMs / 1000} s: ${rate.toFixed(1)}/s answered (expected ${r.expected.toFixed(1)}/s) in ${requests.toFixed(1)} requests/s (one per runner and round); p50 ${fmt(r.p50)}, p99 ${fmt(r.p99)}; ${r.errors} not answered`);
      return r;
    } finally {
      await fleet.stop(1_000);
    }
  } finally {
    for (const p of [...procs].reverse()) await p.stop();
    try {
      await (await nc.jetstreamManager()).streams.delete(names(ns).jobStream);
    } catch {
      /* gone */
    }
    await nc.close().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
    record((d) => {
      d.databases = d.databases.filter((x) => x !== db.database);
      d.pids = d.pids.filter((x) => !procs.some((p) => p.pid === x));
    });
  }
}

/** All runs of the part; `results.load` gets the figures for the report. */
async function loadPhase({ root, record, say, results }) {
  const slotList = list(process.env.BENCH_LOAD_SLOTS, '200,1000,5000');
  const stateList = list(process.env.BENCH_LOAD_STATES, '1,2,3');
  const statesSlots = Number(process.env.BENCH_LOAD_STATES_SLOTS || 1000);
  const duration = process.env.BENCH_LOAD_DURATION || 'uniform:0-200';
  const perRunner = Number(process.env.BENCH_LOAD_SLOTS_PER_RUNNER || 50);
  const jobsFor = (slots) => Number(process.env.BENCH_LOAD_JOBS || Math.max(1000, slots));
  const nats = await startOwnNats(path.join(root, 'nats-load'), record);
  const runs = [];
  const beats = [];
  try {
    say(`  job durations ${duration}; ${perRunner} slots per virtual runner; a nats-server of the bench's own`);
    const plan = [...slotList.map((slots) => [1, slots]), ...stateList.filter((k) => !(k === 1 && slotList.includes(statesSlots))).map((k) => [k, statesSlots])];
    for (const [states, slots] of plan) runs.push(await loadRun({ root, record, say, nats, states, slots, jobs: jobsFor(slots), duration, perRunner }));
    for (const slots of list(process.env.BENCH_LOAD_HEARTBEAT_SLOTS, '500,2000')) beats.push(await heartbeatRun({ root, record, say, nats, slots, perRunner }));
  } finally {
    await nats.stop();
  }
  results.load = runs;
  results.heartbeats = beats;
}

function line(name, value, floor, ratio, goal, ok) {
  return `${name}: ${value} (floor: ${floor}, ratio: ${ratio}, goal: ${goal}) ${ok ? 'OK' : 'MISSED'}`;
}

/** Report lines of the part. */
function loadReport(runs, beats = []) {
  const out = [];
  for (const b of beats) {
    const ratio = b.rate / b.expected;
    out.push(
      line(
        `heartbeats, ${b.slots} running slots (one per slot every ${b.beatMs / 1000} s)`,
        `${b.rate.toFixed(1)}/s answered in ${b.requests.toFixed(1)} requests/s, p50 ${fmt(b.p50)}, p99 ${fmt(b.p99)} (per request)`,
        `${b.expected.toFixed(1)}/s (slots ÷ interval)`,
        ratio.toFixed(2),
        '≥ 0.9 × slots ÷ interval (linear in running slots)',
        ratio >= 0.9,
      ),
    );
  }
  for (const r of runs) {
    const name = `load ${r.states} state × ${r.slots} slots`;
    const ratio = r.rate / r.floor.rate;
    out.push(
      line(
        `${name}, lifecycles/s`,
        `${r.rate.toFixed(1)}/s (${r.jobs} jobs)`,
        `${r.floor.rate.toFixed(1)}/s bare SQL over ${r.floor.conns} connections, mean of ${r.floor.before.rate.toFixed(1)} before and ${r.floor.after.rate.toFixed(1)} after`,
        ratio.toFixed(2),
        `≥ ${GOALS.rateVsFloor} × floor`,
        ratio >= GOALS.rateVsFloor,
      ),
    );
    out.push(line(`${name}, peak DB connections`, String(r.peakConnections), `${r.pool} (the pools)`, (r.peakConnections / r.pool).toFixed(2), '≤ pool', r.peakConnections <= r.pool));
    out.push(
      line(
        `${name}, claim latency`,
        `p50 ${fmt(r.claim.p50)}, p99 ${fmt(r.claim.p99)} (${r.shed} claims refused as busy and asked again)`,
        'none',
        '-',
        'report',
        true,
      ),
    );
    out.push(line(`${name}, finish latency`, `p50 ${fmt(r.finish.p50)}, p99 ${fmt(r.finish.p99)}`, 'none', '-', 'report', true));
    out.push(line(`${name}, NATS messages per job`, r.msgsPerJob.toFixed(1), 'none', '-', 'report', true));
  }
  const byStates = runs.filter((r) => r.slots === (runs.find((x) => x.states > 1)?.slots ?? -1)).sort((a, b) => a.states - b.states);
  if (byStates.length > 1) {
    const base = byStates[0].rate;
    out.push(
      line(
        `load, state instances ${byStates.map((r) => r.states).join('/')} at ${byStates[0].slots} slots`,
        byStates.map((r) => `${r.rate.toFixed(1)}/s`).join(', '),
        `${base.toFixed(1)}/s (one instance)`,
        byStates.map((r) => (r.rate / base).toFixed(2)).join(', '),
        'report whether the rate rises',
        true,
      ),
    );
  }
  return out;
}

module.exports = { loadPhase, loadReport, startOwnNats, sqlFloor };
