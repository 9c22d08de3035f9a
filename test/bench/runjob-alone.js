'use strict';
/**
 * The runner's runJob alone — no NATS, no state, no database: 2 slots × N quick jobs (test/bench/sh-kosmatau
 * executables, local storage) in one process, with job directories reused per slot (`reuse`, JobDirPool) or
 * laid out and removed each time (`fresh`), alternating. Prints wall time per job and slot and this
 * process's CPU per job; RJ_GAPS=1 adds the time between step events and per phase. Files under RJ_TMP
 * (default $TMPDIR). RJ_FACTORY=1: the storage comes from createStorage per job, as the runner's does (else
 * one LocalStorage per round). Built code (npm run build) of the repository given, default this one:
 *   node test/bench/runjob-alone.js [jobsPerSlot=50] [rounds=3] [modes=fresh,reuse] [repo]
 */
const path = require('path');
const fs = require('fs');
const os = require('os');
const { performance } = require('perf_hooks');
const repo = path.resolve(process.argv[5] || path.join(__dirname, '..', '..'));
const N = Number(process.argv[2] || 50);
const R = Number(process.argv[3] || 3);
const modes = (process.argv[4] || 'fresh,reuse').split(',');
const ex = require(path.join(repo, 'apps/runner/dist/execution'));
const { LocalStorage, createStorage } = require(path.join(repo, 'libs/storage/dist'));
const MOCK = path.join(repo, 'deploy/kosmatau-mock');
const T = new Map(); const addT = (k, v) => T.set(k, (T.get(k) || 0) + v);
const wrapA = (o, n, k) => { const f = o[n]; o[n] = async function (...a) { const t = performance.now(); try { return await f.apply(this, a); } finally { addT(k, performance.now() - t); } }; };
const wrapS = (o, n, k) => { const f = o[n]; o[n] = function (...a) { const t = performance.now(); try { return f.apply(this, a); } finally { addT(k, performance.now() - t); } }; };
wrapA(LocalStorage.prototype, 'storeMany', 'storeMany'); wrapA(LocalStorage.prototype, 'exists', 'exists (skip check)');
const tarm = require(path.join(repo, 'apps/runner/dist/execution/tar.js')); wrapA(tarm, 'tarGz', 'tarGz');
const jd = require(path.join(repo, 'apps/runner/dist/execution/job-dir.js')); wrapA(jd, 'createJobDir', 'createJobDir'); wrapA(jd, 'populateJobDir', 'populateJobDir'); if (jd.clearJobDir) wrapS(jd, 'clearJobDir', 'clearJobDir');
{ const f = fs.rmSync; fs.rmSync = function (p, o) { const t = performance.now(); try { return f.call(this, p, o); } finally { if (o && o.recursive) addT('rmSync recursive', performance.now() - t); } }; }
{ const cp = require('child_process'); const f = cp.spawn; cp.spawn = function (...a) { const t = performance.now(); try { return f.apply(this, a); } finally { addT('spawn() call (fork+exec, blocking)', performance.now() - t); } }; }
const tmp = fs.mkdtempSync(path.join(process.env.RJ_TMP || os.tmpdir(), 'rj-'));
const base = path.join(tmp, 'base'); fs.mkdirSync(base);
for (const e of fs.readdirSync(MOCK)) fs.symlinkSync(path.join(MOCK, e), path.join(base, e));
for (const e of ['shpdr', 'shonion']) fs.symlinkSync(path.join(repo, 'test/bench/sh-kosmatau', e), path.join(base, e));
const pdrnew = fs.readFileSync(path.join(MOCK, 'templates/PDRNEW.INP.template'), 'utf8');
let seq = 0;
const spec = (workRoot) => { const j = `j${seq++}`; return { jobKey: j, attempt: 1, modelName: 'm', jobName: j, baseDir: base, workRoot, executables: { pdr: 'shpdr', onion: 'shonion' }, chemDatabase: 'chem_rates_mock.dat', species: ['CO'], inputs: { pdrnewInp: pdrnew, pdrConfigJson: '{"a":1}\n' }, timeouts: { pdrMs: 60000, onionMs: 60000 }, keepTmp: false, forceOnion: false, killGraceMs: 2000 }; };
(async () => {
  for (let r = 0; r < R; r++) for (const mode of modes) {
    const workRoot = path.join(tmp, `w-${mode}-${r}`);
    const storage = new LocalStorage(path.join(tmp, `s-${mode}-${r}`));
    const pool = mode === 'reuse' && ex.JobDirPool ? new ex.JobDirPool(workRoot, 2) : undefined;
    const gaps = new Map(); const last = new Map();
    const deps = { storage, jobDirs: pool, report: async (e) => { const t = performance.now(); const l = last.get(e.jobKey); const k = `${l ? l[1] : 'start'} → ${e.type}`; gaps.set(k, (gaps.get(k) || 0) + t - (l ? l[0] : t)); last.set(e.jobKey, [t, e.type]); } };
    const c0 = process.cpuUsage(); const t0 = performance.now(); let bad = 0;
    const storageOf = process.env.RJ_FACTORY ? () => createStorage({ type: 'local', baseDir: path.join(tmp, `s-${mode}-${r}`) }) : () => storage;
    await Promise.all([0, 1].map(async () => { for (let i = 0; i < N; i++) { const res = await ex.runJob(spec(workRoot), { ...deps, storage: storageOf() }); if (res.status !== 'finished') bad++; } }));
    const ms = performance.now() - t0; const c = process.cpuUsage(c0);
    console.log(`${mode.padEnd(6)} round ${r}: ${(ms / N).toFixed(1)} ms per job and slot, runner CPU ${((c.user + c.system) / 1000 / (2 * N)).toFixed(1)} ms per job (sys ${(c.system / 1000 / (2 * N)).toFixed(1)})${bad ? ` ${bad} not finished` : ''} load ${os.loadavg()[0].toFixed(1)}`);
    if (process.env.RJ_GAPS) for (const [k, v] of gaps) console.log(`   ${(v / (2 * N)).toFixed(1).padStart(7)} ms  ${k}`);
    if (process.env.RJ_GAPS) for (const [k, v] of T) console.log(`   ${(v / (2 * N)).toFixed(1).padStart(7)} ms  [${k}]`); T.clear();
    pool?.close();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
})();
