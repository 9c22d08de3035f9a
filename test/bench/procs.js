'use strict';
/**
 * Child processes of the benchmark (state, planner, runners as `node apps/<svc>/dist/main.js`) and an
 * RSS sampler that reads VmRSS from /proc/<pid>/status, so the services run isolated as in production
 * and their memory can be watched while they work.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { collectHealth } = require('@pdr/messaging');

const REPO = path.resolve(__dirname, '..', '..');

/**
 * CPU seconds a process has used so far, user and system apart, and its children's it waited for (a
 * runner's executables), or null once it is gone.
 */
function cpuSplit(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime in clock ticks (USER_HZ = 100)
    return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
  } catch {
    return null;
  }
}

/**
 * CPU seconds this process and its children it waited for have used so far (utime + stime + cutime +
 * cstime): a floor's CPU, its `sh` executables included.
 */
function selfAndChildrenCpu() {
  const c = cpuSplit(process.pid);
  return c.user + c.sys + c.children;
}

/** The first process of one of `names` on this machine (`pidof`), or null (not running here). */
function pidOf(...names) {
  for (const name of names) {
    try {
      const out = require('node:child_process').execFileSync('pidof', [name], { encoding: 'utf8' }).trim();
      if (out) return Number(out.split(/\s+/)[0]);
    } catch {
      /* not running here */
    }
  }
  return null;
}

/** CPU seconds (user + system) a process has used so far, or null once it is gone. */
function cpuSeconds(pid) {
  const c = cpuSplit(pid);
  return c === null ? null : c.user + c.sys;
}

/** VmRSS of a process in MB, or null once it is gone. */
function rssMb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Starts one service. Its stdout/stderr go to `<logDir>/<label>.log` (PDR_LOG_LEVEL=warn keeps that
 * short). BENCH_CPU_PROF=<dir> adds `--cpu-prof --cpu-prof-dir <dir>` (a .cpuprofile per service,
 * written when it exits gracefully) for finding where the time goes; BENCH_TIMING=1 loads
 * timing-preload.js into it (a table of where its time went, written at exit).
 */
function startService(label, svc, { env, args = [], logDir, cwd }) {
  const main = path.join(REPO, 'apps', svc, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} not found: run npm run build first`);
  const nodeArgs = [];
  if (process.env.BENCH_CPU_PROF) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF), '--cpu-prof-name', `${label}.cpuprofile`);
  const timingFile = process.env.BENCH_TIMING ? path.join(logDir, `${label}.timing.txt`) : null;
  if (timingFile) nodeArgs.push('--require', path.join(__dirname, 'timing-preload.js'));
  if (process.env.BENCH_NODE_ARGS) nodeArgs.push(...process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean));
  const logFile = path.join(logDir, `${label}.log`);
  const out = fs.openSync(logFile, 'a');
  const childEnv = { ...process.env, ...env, ...(timingFile ? { BENCH_TIMING_OUT: timingFile } : {}) };
  const child = spawn(process.execPath, [...nodeArgs, main, ...args], { cwd, env: childEnv, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const proc = {
    label,
    svc,
    child,
    pid: child.pid,
    logFile,
    timingFile,
    exited: false,
    exit: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exited = true;
        resolve({ code, signal });
      });
    }),
    /** The last lines of its log (for error messages). */
    tail(n = 15) {
      try {
        return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
      } catch {
        return '';
      }
    },
    /** SIGTERM (graceful close), SIGKILL after `graceMs`. */
    async stop(graceMs = 10_000) {
      if (proc.exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (!proc.exited) child.kill('SIGKILL');
      }, graceMs);
      await proc.exit;
      clearTimeout(t);
    },
  };
  child.once('error', (err) => {
    proc.exited = true;
    proc.error = err;
  });
  return proc;
}

/** Waits until every service in `expect` (e.g. { state: 1, planner: 1 }) answers a health ping. */
async function waitHealthy(nc, ns, expect, procs, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.label} exited during start-up:\n${dead.tail()}`);
    const seen = {};
    for (const r of await collectHealth(nc, ns, 300)) seen[r.service] = (seen[r.service] || 0) + 1;
    if (Object.entries(expect).every(([s, n]) => (seen[s] || 0) >= n)) return;
    if (Date.now() > until) throw new Error(`services not ready within ${timeoutMs} ms (want ${JSON.stringify(expect)}, saw ${JSON.stringify(seen)})`);
  }
}

/**
 * Samples VmRSS of the given processes every `everyMs`. `mark(name)` starts a named phase; per phase
 * and label the first, peak and last value and the peaks of the phase's first and second half (by time)
 * are kept, which tells "flat" from "growing".
 */
class RssSampler {
  constructor(everyMs = 100) {
    this.everyMs = everyMs;
    this.procs = new Map();
    this.phases = new Map();
    this.phase = null;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  track(proc) {
    this.procs.set(proc.label, proc);
  }

  mark(name) {
    this.phase = name;
    const cpu0 = new Map();
    for (const [label, p] of this.procs) if (!p.exited) cpu0.set(label, cpuSplit(p.pid));
    this.phases.set(name, { samples: new Map(), cpu0, split: new Map() });
    this.sample();
  }

  stop() {
    if (this.phase) {
      this.sample();
      const ph = this.phases.get(this.phase);
      for (const [label, c0] of ph.cpu0) {
        const c1 = cpuSplit(this.procs.get(label).pid);
        if (c0 !== null && c1 !== null) ph.split.set(label, { user: c1.user - c0.user, sys: c1.sys - c0.sys, children: c1.children - c0.children });
      }
    }
    this.phase = null;
  }

  /** CPU seconds each service used during a phase: Map label → seconds. */
  cpu(phase) {
    return new Map([...this.cpuSplit(phase)].map(([label, c]) => [label, c.user + c.sys]));
  }

  /** The same apart: Map label → { user, sys, children } seconds (children: the processes it waited for). */
  cpuSplit(phase) {
    return this.phases.get(phase)?.split ?? new Map();
  }

  sample() {
    if (!this.phase) return;
    const ph = this.phases.get(this.phase);
    const t = Date.now();
    for (const [label, p] of this.procs) {
      if (p.exited) continue;
      const mb = rssMb(p.pid);
      if (mb === null) continue;
      if (!ph.samples.has(label)) ph.samples.set(label, []);
      ph.samples.get(label).push([t, mb]);
    }
  }

  /** { first, peak, last, firstHalfPeak, secondHalfPeak, n } of one label in one phase (MB), or null. */
  summary(phase, label) {
    const s = this.phases.get(phase)?.samples.get(label);
    if (!s || !s.length) return null;
    const t0 = s[0][0];
    const mid = t0 + (s[s.length - 1][0] - t0) / 2;
    let peak = 0;
    let a = 0;
    let b = 0;
    for (const [t, mb] of s) {
      peak = Math.max(peak, mb);
      if (t <= mid) a = Math.max(a, mb);
      else b = Math.max(b, mb);
    }
    return { first: s[0][1], peak, last: s[s.length - 1][1], firstHalfPeak: a, secondHalfPeak: b || a, n: s.length };
  }

  close() {
    clearInterval(this.timer);
  }
}

module.exports = { REPO, rssMb, cpuSeconds, cpuSplit, selfAndChildrenCpu, pidOf, startService, waitHealthy, RssSampler };
