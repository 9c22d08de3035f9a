'use strict';
/**
 * BENCH_TIMING=1: loaded into each service child with `node --require` (never into the mock executables).
 * Wraps, in the built code, the calls a job or a planned grid spends its time in (contract requests,
 * SQL statements, job-event publishing, child processes, storage writes, whole job handling) and writes
 * a table "total ms, count, average, max" to $BENCH_TIMING_OUT when the process exits. A diagnostic
 * for finding where the time goes; it changes nothing else.
 */
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const path = require('node:path');

const out = process.env.BENCH_TIMING_OUT;
const REPO = path.resolve(__dirname, '..', '..');
const stats = new Map();
const add = (key, ms, n = 1) => {
  const s = stats.get(key) || { ms: 0, n: 0, calls: 0, max: 0 };
  s.ms += ms;
  s.n += n;
  s.calls++;
  s.max = Math.max(s.max, ms);
  stats.set(key, s);
};

/** Replaces the synchronous obj[name] with a timed version. */
function timeSync(obj, name, key) {
  const orig = obj[name];
  obj[name] = function (...args) {
    const t0 = performance.now();
    try {
      return orig.apply(this, args);
    } finally {
      add(key, performance.now() - t0);
    }
  };
}

/** Replaces obj[name] with a timed version keyed by key(args). */
function timeMethod(obj, name, key, count = () => 1) {
  const orig = obj[name];
  obj[name] = async function (...args) {
    const t0 = performance.now();
    try {
      return await orig.apply(this, args);
    } finally {
      add(key(args), performance.now() - t0, count(args));
    }
  };
}

function attempt(what, fn) {
  try {
    fn();
  } catch (err) {
    process.stderr.write(`timing-preload: ${what} not timed: ${err.message}\n`);
  }
}

if (out) {
  attempt('contract requests', () => {
    const { ContractClient, JobStream } = require(path.join(REPO, 'libs/messaging/dist/index.js'));
    timeMethod(ContractClient.prototype, 'request', ([name]) => `rpc ${name}`);
    timeMethod(JobStream.prototype, 'publish', () => 'publish job events (n = events)', ([events]) => events.length);
  });
  attempt('SQL', () => {
    const knex = require(require.resolve('@mikro-orm/knex', { paths: [REPO] }));
    timeMethod(knex.SqlEntityManager.prototype, 'execute', ([sql]) => `sql ${String(sql).replace(/\s+/g, ' ').slice(0, 48)}`);
  });
  attempt('child processes', () => {
    const cp = require('node:child_process');
    const spawn = cp.spawn;
    cp.spawn = function (cmd, ...rest) {
      const t0 = performance.now();
      const child = spawn.call(this, cmd, ...rest);
      child.once('exit', () => add(`child ${path.basename(String(cmd))}`, performance.now() - t0));
      return child;
    };
  });
  if (/apps\/runner\/dist\/main\.js$/.test(process.argv[1] || '')) {
    attempt('storage and job handling', () => {
      const { LocalStorage } = require(path.join(REPO, 'libs/storage/dist/index.js'));
      timeMethod(LocalStorage.prototype, 'storeMany', () => "storage storeMany (a job's files: copy + sha256, one fsync barrier, renames)", ([items]) => items.length);
      const { JobHandler } = require(path.join(REPO, 'apps/runner/dist/consume/handle-job.js'));
      timeMethod(JobHandler.prototype, 'handle', () => 'job handled (event → ack)');
      const runJob = require(path.join(REPO, 'apps/runner/dist/execution/run-job.js'));
      timeMethod(runJob, 'runJob', () => 'runJob (job dir → executables → store → clean-up)');
      const jobDir = require(path.join(REPO, 'apps/runner/dist/execution/job-dir.js'));
      timeMethod(jobDir, 'createJobDir', () => 'job dir: create (or take a parked one)');
      timeMethod(jobDir, 'populateJobDir', () => 'job dir: preflight + layout + rendered inputs');
      if (jobDir.clearJobDir) timeSync(jobDir, 'clearJobDir', 'job dir: clear for the next job');
      const tar = require(path.join(REPO, 'apps/runner/dist/execution/tar.js'));
      timeMethod(tar, 'tarGz', () => 'MCDRT tarball');
      const render = require(path.join(REPO, 'apps/runner/dist/prepare/render-inputs.js'));
      timeMethod(render, 'renderInputs', () => 'render inputs');
      const fsMod = require('node:fs');
      const rmSync = fsMod.rmSync;
      fsMod.rmSync = function (p, opts) {
        const t0 = performance.now();
        try {
          return rmSync.call(this, p, opts);
        } finally {
          if (opts && opts.recursive) add('fs.rmSync recursive (job dir removal)', performance.now() - t0);
        }
      };
    });
  }
  process.on('exit', () => {
    const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
    const lines = rows.map(
      ([k, s]) => `${s.ms.toFixed(0).padStart(9)} ms ${String(s.calls).padStart(6)}× avg ${(s.ms / s.calls).toFixed(1).padStart(8)} ms max ${s.max.toFixed(0).padStart(6)} ms  ${k}${s.n !== s.calls ? ` (n = ${s.n})` : ''}`,
    );
    try {
      fs.writeFileSync(out, `${lines.join('\n')}\n`);
    } catch {
      /* nothing to report to */
    }
  });
}
