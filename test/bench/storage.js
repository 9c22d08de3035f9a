'use strict';
/**
 * The storage figures of `npm run bench`: the outputs of BENCH_STORAGE_JOBS jobs (default 200; one job's
 * files as the mock KOSMA-tau writes them, 1 onion species: 13 files, each job's content its own) stored
 * over loopback to a private sshd (test/support/sshd-server.js), 2 jobs at once as 2 runner slots do:
 *
 *  - SFTP: the project's backend (createStorage: one shared connection, temp name + size check + rename,
 *    the skip-check files last, SHA-256 of the bytes sent) against the floor of the same bytes uploaded
 *    by a bare ssh2 client (one connection, fastPut of each file to its final name, the same parallelism).
 *    BENCH_STORAGE_ROUNDS rounds (default 5) in turn with the floor — floor, project, floor, project, …,
 *    floor — each round's ratio against the mean of the floors just before and after it; the figure is the
 *    round with the median ratio (the machine's load moves single runs by ±20 %).
 *  Each side is connected and has its model folders before its clock starts (warmUp / the floors' mkdir).
 *  - rclone → sftp: the project's backend (the runner's `rclone rcd`; per file a copyfile to a temp name,
 *    verified by rclone, and a server-side movefile onto its name, the skip-check files last) against the
 *    floor of the same files copied by a bare `rclone rcd` straight to their final names (operations/copyfile,
 *    all files of a job at once, the same 2 jobs at once: rclone's fastest way to upload them, without the
 *    temp names and moves). For reference, one bare `rclone copy` process per job is measured and printed
 *    too (what the backend did before it used a daemon: 4 processes per job, 2.6× that).
 *
 * Needs root, openssh-server and rclone (.ci/services/sshd-rclone.sh); otherwise says why and skips.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { spawn } = require('node:child_process');
const { createStorage, closeStorageConnections } = require('@pdr/storage');
const { startSshd, sshdUnavailable, rcloneUnavailable } = require('../support/sshd-server');

const JOBS = Number(process.env.BENCH_STORAGE_JOBS || 200);
/** SFTP rounds: floor, project, floor, project, …, floor; each round's ratio against the floors beside it. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_STORAGE_ROUNDS || 5));
const SLOTS = 2;
const GOAL = 1.3;

/** Sizes of one mock job's stored files (role, storage name pattern, bytes), as `runJob` stores them. */
const JOB_FILES = [
  ['textout', 'pdrgrid/TEXTOUT{j}', 1_800, false],
  ['chemchk', 'pdrgrid/chemchk{j}.out', 300, false],
  ['mcdrt', 'pdrgrid/MCDRT{j}.tar.gz', 600, false],
  ['pdrnew', 'pdrgrid/PDRNEW{j}.INP', 5_200, false],
  ['json', 'pdrgrid/pdr_config{j}.json', 3_900, false],
  ['onion TEXTOUT', 'oniongrid/TEXTOUT{j}_CO', 400, false],
  ['onion jerg', 'oniongrid/ONION{j}.jerg_CO.smli', 2_000, false],
  ['onion jtemp', 'oniongrid/ONION{j}.jtemp_CO.smlc', 2_000, false],
  ['onion linebt', 'oniongrid/ONION{j}.linebt_CO.out', 1_500, false],
  ['hdf4', 'pdrgrid/pdr{j}.hdf', 40_000, true],
  ['hdf5 chem', 'pdrgrid/pdrchem{j}.hdf5', 60_000, true],
  ['hdf5 struct', 'pdrgrid/pdrstruct{j}.hdf5', 80_000, true],
  ['ctrl_ind', 'pdrgrid/CTRL_IND{j}', 200, true],
];

/** `n` jobs' files under `dir/<job>/`: [{ job, items: [{ localPath, relPath (below the model), last }] }]. */
function makeJobs(dir, n) {
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const job = `100_${30 + i}_-10_10_00`;
    const d = path.join(dir, job);
    fs.mkdirSync(d, { recursive: true });
    const items = JOB_FILES.map(([role, pattern, size, last], k) => {
      const localPath = path.join(d, `f${k}`);
      fs.writeFileSync(localPath, crypto.randomBytes(size));
      return { localPath, relPath: pattern.replace('{j}', job), last, role };
    });
    jobs.push({ job, items });
  }
  return jobs;
}

async function inSlots(jobs, fn) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await fn(jobs[next++]);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: SLOTS }, worker));
  return performance.now() - t0;
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args[0]} exited ${code}: ${err.slice(-300)}`))));
  });
}

/** The bare ssh2 floor: one connection, fastPut of every file to its final name, SLOTS jobs at once. */
async function bareSsh2(sshd, base, jobs) {
  const { Client } = require('ssh2');
  const conn = new Client();
  await new Promise((resolve, reject) => {
    conn.once('ready', resolve).once('error', reject);
    conn.connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: fs.readFileSync(sshd.keyFile) });
  });
  conn.setNoDelay(true); // as the project's connection: small requests are not held by Nagle's algorithm
  const sftp = await new Promise((resolve, reject) => conn.sftp((err, s) => (err ? reject(err) : resolve(s))));
  const call = (fn, ...args) => new Promise((resolve, reject) => sftp[fn](...args, (err, v) => (err ? reject(err) : resolve(v))));
  // directories exist before the clock starts (the project's backend creates them once per run too)
  for (const d of ['model', 'model/pdrgrid', 'model/oniongrid']) await call('mkdir', `${base}/${d}`).catch(() => undefined);
  const ms = await inSlots(jobs, async (j) => {
    await Promise.all(j.items.map((it) => call('fastPut', it.localPath, `${base}/model/${it.relPath}`)));
  });
  conn.end();
  return ms;
}

/** A bare `rclone rcd` on loopback (random credentials): { call(method, params), close() }. */
async function bareRcd() {
  const user = `b${crypto.randomBytes(6).toString('hex')}`;
  const pass = crypto.randomBytes(16).toString('hex');
  const child = spawn('rclone', ['rcd', '--rc-addr', '127.0.0.1:0', '--log-level', 'NOTICE'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RCLONE_RC_USER: user, RCLONE_RC_PASS: pass },
  });
  const url = await new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`rclone rcd did not start: ${err}`)), 15_000);
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /Serving remote control on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.on('error', reject);
  });
  const auth = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  return {
    async call(method, params) {
      const res = await globalThis.fetch(`${url}/${method}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(params) });
      const text = await res.text();
      if (!res.ok) throw new Error(`rclone rc ${method}: ${text.slice(0, 300)}`);
      return JSON.parse(text);
    },
    close() {
      child.kill('SIGTERM');
    },
  };
}

/** The bare rclone floor: one `rclone rcd`, copyfile of every file to its final name, SLOTS jobs at once. */
async function bareRcloneRcd(remote, base, jobs) {
  const rcd = await bareRcd();
  try {
    // the model folders exist before the clock starts (the backend makes them once per run too)
    for (const d of ['model/pdrgrid', 'model/oniongrid']) await rcd.call('operations/mkdir', { fs: `${remote}${base}`, remote: d });
    return await inSlots(jobs, async (j) => {
      await Promise.all(
        j.items.map((it) =>
          rcd.call('operations/copyfile', {
            srcFs: path.dirname(it.localPath),
            srcRemote: path.basename(it.localPath),
            dstFs: `${remote}${base}/model/${path.posix.dirname(it.relPath)}`,
            dstRemote: path.posix.basename(it.relPath),
          }),
        ),
      );
    });
  } finally {
    rcd.close();
  }
}

/**
 * Before the project's clock starts, as before the floors' (connected, model folders made): one file stored
 * into each model folder and removed again — the SSH connection (SFTP) or rclone's daemon and its connection
 * (rclone) exist, and the folders are made and checked.
 */
async function warmUp(backend, job) {
  for (const d of ['pdrgrid', 'oniongrid']) {
    await backend.store(job.items[0].localPath, `model/${d}/.warm-up`);
    await backend.remove(`model/${d}/.warm-up`);
  }
}

async function storagePhase(root, say) {
  const why = sshdUnavailable() || rcloneUnavailable();
  if (why) {
    say(`  storage figures skipped: ${why}`);
    return null;
  }
  const sshd = await startSshd();
  try {
    const dir = path.join(root, 'storage-bench');
    const jobs = makeJobs(dir, JOBS);
    const bytes = jobs.reduce((n, j) => n + j.items.reduce((m, it) => m + fs.statSync(it.localPath).size, 0), 0);
    const fresh = (name) => {
      const d = path.join(sshd.storageDir, name);
      fs.mkdirSync(d);
      fs.chownSync(d, sshd.uid, sshd.gid);
      return d;
    };
    const sftpSettings = (baseDir) => ({
      type: 'sftp',
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      baseDir,
      privateKeyFile: sshd.keyFile,
      knownHostsFile: sshd.knownHostsFile,
      hostKeyCheck: true,
    });
    const remote = `:sftp,host=${sshd.host},port=${sshd.port},user=${sshd.user},key_file=${sshd.keyFile},known_hosts_file=${sshd.knownHostsFile}:`;
    const withModel = (j) => j.items.map((it) => ({ localPath: it.localPath, relPath: `model/${it.relPath}`, last: it.last }));

    say(`  ${JOBS} jobs × ${JOB_FILES.length} files (${(bytes / 1e6).toFixed(1)} MB), ${SLOTS} at once, to sshd on 127.0.0.1:${sshd.port}`);
    // rounds in turn with the floor (the machine's load changes from one second to the next): the figure is
    // the round with the median ratio; each round stores into fresh folders, removed after it (not timed)
    const floors = [];
    const rounds = [];
    const floorRun = async (k) => {
      const d = fresh(`floor-sftp-${k}`);
      floors.push(await bareSsh2(sshd, d, jobs));
      fs.rmSync(d, { recursive: true, force: true });
    };
    await floorRun(0);
    for (let k = 0; k < ROUNDS; k++) {
      const d = fresh(`project-sftp-${k}`);
      const sftpBackend = createStorage(sftpSettings(d), {});
      await warmUp(sftpBackend, jobs[0]);
      const ms = await inSlots(jobs, (j) => sftpBackend.storeMany(withModel(j)));
      await closeStorageConnections();
      fs.rmSync(d, { recursive: true, force: true });
      await floorRun(k + 1);
      const floor = (floors[k] + floors[k + 1]) / 2;
      rounds.push({ project: ms, floor, floorBefore: floors[k], floorAfter: floors[k + 1], ratio: ms / floor });
      say(`  SFTP round ${k + 1}: project ${(ms / 1000).toFixed(2)} s, bare ssh2 ${(floors[k] / 1000).toFixed(2)} s before / ${(floors[k + 1] / 1000).toFixed(2)} s after: ${(ms / floor).toFixed(2)}`);
    }
    const med = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
    const { project: projectSftp, floor: floorSftp, floorBefore: floorSftp1, floorAfter: floorSftp2 } = med;
    const sftpRatios = rounds.map((r) => r.ratio);

    const rcloneJobs = jobs.slice(0, Math.min(JOBS, Number(process.env.BENCH_RCLONE_JOBS || JOBS)));
    const copyBase = fresh('bare-rclone-copy');
    const perJobCopy = await inSlots(rcloneJobs, async (j) => {
      const d = path.dirname(j.items[0].localPath);
      await run('rclone', ['copy', '--log-level', 'ERROR', d, `${remote}${copyBase}/model/${j.job}`]);
    });
    const floorRclone1 = await bareRcloneRcd(remote, fresh('floor-rclone-1'), rcloneJobs);
    const rcloneBackend = createStorage({ type: 'rclone', remote, baseDir: fresh('project-rclone'), remotePathPrefix: null }, {});
    await warmUp(rcloneBackend, rcloneJobs[0]);
    const projectRclone = await inSlots(rcloneJobs, (j) => rcloneBackend.storeMany(withModel(j)));
    await closeStorageConnections();
    const floorRclone2 = await bareRcloneRcd(remote, fresh('floor-rclone-2'), rcloneJobs);
    const floorRclone = (floorRclone1 + floorRclone2) / 2;
    say(
      `  rclone → sftp (${rcloneJobs.length} jobs): project ${(projectRclone / 1000).toFixed(2)} s, bare rclone rcd copyfile ${(floorRclone1 / 1000).toFixed(2)} s before / ${(floorRclone2 / 1000).toFixed(2)} s after; one bare rclone copy process per job (reference) ${(perJobCopy / 1000).toFixed(2)} s`,
    );
    return { jobs: JOBS, rcloneJobs: rcloneJobs.length, projectSftp, floorSftp, floorSftp1, floorSftp2, sftpRatios, projectRclone, floorRclone, floorRclone1, floorRclone2, perJobCopy };
  } finally {
    await closeStorageConnections();
    await sshd.destroy();
  }
}

/** The report lines of the storage figures (same format as the bench's other figures). */
function storageLines(r, line, fmtMs, r2) {
  if (!r) return [];
  const s = r.projectSftp / r.floorSftp;
  const c = r.projectRclone / r.floorRclone;
  return [
    line(
      `storage over SFTP, ${r.jobs} jobs (median of ${r.sftpRatios.length} rounds in turn with the floor)`,
      `${fmtMs(r.projectSftp)} (${fmtMs(r.projectSftp / r.jobs)} per job)`,
      `${fmtMs(r.floorSftp)} bare ssh2 fastPut = mean of ${fmtMs(r.floorSftp1)} before and ${fmtMs(r.floorSftp2)} after; ratios of the rounds ${[...r.sftpRatios].sort((a, b) => a - b).map(r2).join(', ')}`,
      r2(s),
      `ratio ≤ ${GOAL}`,
      s <= GOAL,
    ),
    line(
      `storage over rclone → sftp, ${r.rcloneJobs} jobs`,
      `${fmtMs(r.projectRclone)} (${fmtMs(r.projectRclone / r.rcloneJobs)} per job: per file copyfile to a temp name + movefile)`,
      `${fmtMs(r.floorRclone)} bare rclone rcd copyfile to the final names = mean of ${fmtMs(r.floorRclone1)} before and ${fmtMs(r.floorRclone2)} after; one rclone copy process per job: ${fmtMs(r.perJobCopy)}`,
      r2(c),
      `ratio ≤ ${GOAL}`,
      c <= GOAL,
    ),
  ];
}

module.exports = { storagePhase, storageLines };
