'use strict';
/**
 * The floors the project's figures are compared with: the same work done bare, with nothing around it.
 *
 *  - execFloor: the mock executables spawned exactly as a job needs them (mockpdr, then mockonion per
 *    species, cwd = a job directory laid out like the runner's with the rendered inputs, output to a
 *    TEXTOUT file), the same number of times with the same parallelism. Directories are prepared
 *    before the clock starts, so the floor is only the executables' own cost.
 *  - insertFloor: batched multi-row INSERTs with mysql2 into a scratch table with the columns and keys
 *    of kosmatau_parameters (the widest row the planner writes), the same number of rows.
 *  - publishFloor: pipelined JetStream publishes of the same number of small messages to a scratch
 *    work-queue stream with file storage.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const path = require('node:path');
const { selfAndChildrenCpu } = require('./procs');
const { populateJobDir } = require('../../apps/runner/dist/execution/job-dir');
const { renderInputsForPoint, buildParameterRow, KOSMATAU_PARAMETER_NAMES } = require('@pdr/domain');
const { RetentionPolicy, StorageType, DiscardPolicy } = require('nats');

/** Runs one executable in `cwd` with stdout+stderr appended to `logFile`; resolves with its exit code. */
function runExe(command, args, cwd, logFile) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { cwd, stdio: ['ignore', fd, fd], env: process.env });
    fs.closeSync(fd);
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/**
 * Prepares `points.length` job directories under `root`, then (timed) runs mockpdr + mockonion per
 * species in each with `parallelism` workers. Returns the wall time in ms and the CPU seconds of that timed
 * part (this process and the executables it waited for).
 */
async function execFloor({ root, baseDir, points, species, physics, parallelism, chemDatabase, pdrExe = 'mockpdr', onionExe = 'mockonion' }) {
  const pdrnewTemplate = fs.readFileSync(path.join(baseDir, 'templates', 'PDRNEW.INP.template'), 'utf8');
  const jsonTemplate = fs.readFileSync(path.join(baseDir, 'templates', 'pdr_config.json.template'), 'utf8');
  const dirs = [];
  for (let i = 0; i < points.length; i++) {
    const r = renderInputsForPoint({ point: points[i], pdrnewTemplate, jsonTemplate, ...physics, chemDatabaseFile: chemDatabase });
    const dir = path.join(root, `${r.jobName}.1-floor`);
    fs.mkdirSync(dir, { recursive: true });
    const spec = {
      baseDir,
      chemDatabase,
      species,
      executables: { pdr: pdrExe, onion: onionExe },
      inputs: { pdrnewInp: r.pdrnewInp, pdrConfigJson: r.pdrConfigJson },
    };
    await populateJobDir(spec, dir, { needPdr: true, needOnion: true });
    dirs.push(dir);
  }
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < dirs.length) {
      const dir = dirs[next++];
      if ((await runExe(`./${pdrExe}`, [], dir, path.join(dir, 'pdroutput', 'TEXTOUT'))) !== 0) failures++;
      for (const s of species) {
        fs.copyFileSync(path.join(dir, 'onioninpdata', `ONION3.INP.${s}`), path.join(dir, 'ONION3.INP'));
        fs.copyFileSync(path.join(dir, 'pdroutput', 'CTRL_IND'), path.join(dir, 'CTRL_IND'));
        const struct = path.join(dir, 'pdroutput', 'pdrstruct_s.hdf5');
        if ((await runExe(`./${onionExe}`, [struct], dir, path.join(dir, 'onionoutput', 'TEXTOUT'))) !== 0) failures++;
      }
    }
  };
  const cpu0 = selfAndChildrenCpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallelism }, worker));
  const ms = performance.now() - t0;
  const cpuSec = selfAndChildrenCpu() - cpu0;
  if (failures) throw new Error(`exec floor: ${failures} executable runs failed (see ${root})`);
  return { ms, cpuSec };
}

/** A value for a scratch row column like the real one (numbers stay numbers, strings strings). */
function scratchRows(n, physics) {
  const base = buildParameterRow({ point: { metal: '100', dens: '30', mass: '-10', chi: '10' }, ...physics });
  const cols = ['model_name_id', 'parameter_hash', ...KOSMATAU_PARAMETER_NAMES];
  const template = cols.map((c) => (c === 'model_name_id' ? 1 : c === 'parameter_hash' ? '' : (base[c] ?? null)));
  const hashAt = cols.indexOf('parameter_hash');
  const varying = ['xnsur', 'mass', 'sint', 'rtot'].map((c) => cols.indexOf(c)).filter((i) => i >= 0);
  return {
    cols,
    row(i) {
      const r = template.slice();
      r[hashAt] = crypto.createHash('sha256').update(String(i)).digest('hex');
      for (const k of varying) if (typeof r[k] === 'number') r[k] = r[k] * (1 + i * 1e-6);
      return r;
    },
  };
}

/**
 * `n` rows into `<db>.bench_scratch` (CREATE TABLE ... LIKE kosmatau_parameters, no foreign keys),
 * 1000 rows per INSERT, one connection, autocommit. Only the INSERTs are timed (each batch's values are
 * built before its statement, outside the clock).
 * Returns ms; the table is dropped afterwards.
 */
async function insertFloor({ db, n, physics, batch = 1000 }) {
  const mysql = require('mysql2/promise');
  const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
  try {
    await conn.query('DROP TABLE IF EXISTS bench_scratch');
    await conn.query('CREATE TABLE bench_scratch LIKE kosmatau_parameters');
    const { cols, row } = scratchRows(n, physics);
    const head = `INSERT INTO bench_scratch (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES ?`;
    let ms = 0;
    for (let i = 0; i < n; i += batch) {
      const rows = [];
      for (let j = i; j < Math.min(n, i + batch); j++) rows.push(row(j));
      const t0 = performance.now();
      await conn.query(head, [rows]);
      ms += performance.now() - t0;
    }
    const [[{ c }]] = await conn.query('SELECT COUNT(*) AS c FROM bench_scratch');
    if (Number(c) !== n) throw new Error(`insert floor: ${c} rows in bench_scratch, expected ${n}`);
    return ms;
  } finally {
    await conn.query('DROP TABLE IF EXISTS bench_scratch').catch(() => undefined);
    await conn.end();
  }
}

/**
 * `n` small JSON messages to a scratch work-queue stream `<ns>_FLOOR` (file storage), `window`
 * publishes in flight at a time. Returns ms; the stream is deleted afterwards.
 */
async function publishFloor({ nc, ns, n, window = 512 }) {
  const jsm = await nc.jetstreamManager();
  const stream = `${ns.toUpperCase()}_FLOOR`;
  const subject = `${ns}.floor.run.1`;
  await jsm.streams.add({ name: stream, subjects: [`${ns}.floor.run.*`], retention: RetentionPolicy.Workqueue, storage: StorageType.File, discard: DiscardPolicy.New });
  try {
    const js = nc.jetstream();
    const enc = new TextEncoder();
    const t0 = performance.now();
    for (let i = 0; i < n; i += window) {
      const acks = [];
      for (let j = i; j < Math.min(n, i + window); j++) acks.push(js.publish(subject, enc.encode(JSON.stringify({ v: 1, jobId: j + 1, gridId: 1, generation: 0 }))));
      await Promise.all(acks);
    }
    const ms = performance.now() - t0;
    const info = await jsm.streams.info(stream);
    if (info.state.messages !== n) throw new Error(`publish floor: ${info.state.messages} messages in ${stream}, expected ${n}`);
    return ms;
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}

module.exports = { execFloor, insertFloor, publishFloor };
