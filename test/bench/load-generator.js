'use strict';
/**
 * Runner-protocol load generator: virtual runners that speak the real contract (@pdr/contracts through
 * @pdr/messaging's ContractClient, which validates every request and reply) against real state services,
 * without executables. Used by `npm run bench` (lifecycles/s, latencies, messages per job) and by the
 * scale tests in `npm test` (test/scale/: every job claimed, every outcome recorded once, none lost).
 *
 * A virtual runner has one NATS connection, like a real one, and `slots` slots. Its job lifecycle is the
 * runner's (apps/runner/src/consume/handle-job.ts) minus the executables:
 *   pull an event from the one durable consumer → state.job.claim (retried while state is unreachable,
 *   the event kept alive with in-progress acks) → not granted: ack, nothing else → granted: an in-progress
 *   ack every `heartbeatMs`, and the runner's one state.jobs.heartbeat per interval for all its running
 *   jobs, while it "runs" for `duration(job)` ms,
 *   steps sent with state.job.step once they waited `stepDelayMs` → state.job.finish with the stored-file
 *   records a real job of the grid reports (13 for one onion species), its two executables and the
 *   steps still waiting → ack only once state has recorded the outcome (nak after FINISH_ATTEMPTS).
 *
 * Pulling: one pull request per runner for as many events as it has free slots (JetStream serves at
 * most max_waiting = 512 waiting pull requests per consumer; one per slot would leave slots beyond that
 * idle — see docs/benchmarks.md).
 *
 * Nothing here touches the database; what was claimed and recorded is kept per job for the caller to
 * check against the database.
 */
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { backoff, jobEvent, ContractError, LIMITS, names, MAX_HEARTBEATS_PER_REQUEST } = require('@pdr/contracts');
const { connectNats, ContractClient, ServiceUnavailableError } = require('@pdr/messaging');

const FINISH_ATTEMPTS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isTransient = (err) => err instanceof ServiceUnavailableError || (err instanceof ContractError && err.code === 'UNAVAILABLE');

/** Job durations: `fixed:<ms>`, `uniform:<min>-<max>`, `exp:<mean>` (exponential, capped at 10 × mean). */
function durationFrom(spec) {
  if (typeof spec === 'function') return spec;
  if (typeof spec === 'number') return () => spec;
  const m = /^(fixed|uniform|exp):(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(String(spec));
  if (!m) throw new Error(`job duration "${spec}": expected fixed:<ms>, uniform:<min>-<max> or exp:<mean>`);
  const a = Number(m[2]);
  const b = m[3] === undefined ? a : Number(m[3]);
  if (m[1] === 'fixed') return () => a;
  if (m[1] === 'uniform') return () => a + Math.random() * (b - a);
  return () => Math.min(10 * a, -a * Math.log(1 - Math.random()));
}

/** The stored-file records a finished job of the mock reports (pdr_run's names), with made-up sizes and sums. */
function fileRecords(job) {
  const base = `${job.run.storage.baseDir}/${job.modelName}`;
  const n = job.jobName;
  const pdr = [
    ['textout', `TEXTOUT${n}`],
    ['chemchk', `chemchk${n}.out`],
    ['mcdrt', `MCDRT${n}.tar.gz`],
    ['pdrnew', `PDRNEW${n}.INP`],
    ['json', `pdr_config${n}.json`],
    ['hdf4', `pdr${n}.hdf`],
    ['hdf5_chem', `pdrchem${n}.hdf5`],
    ['hdf5_struct', `pdrstruct${n}.hdf5`],
    ['ctrl_ind', `CTRL_IND${n}`],
  ].map(([role, f]) => [role, `pdrgrid/${f}`]);
  const onion = job.onionSpecies.flatMap((s) =>
    [
      [`onion:${s}:TEXTOUT`, `TEXTOUT${n}_${s}`],
      [`onion:${s}:jerg_${s}.smli`, `ONION${n}.jerg_${s}.smli`],
      [`onion:${s}:jtemp_${s}.smlc`, `ONION${n}.jtemp_${s}.smlc`],
      [`onion:${s}:linebt_${s}.out`, `ONION${n}.linebt_${s}.out`],
    ].map(([role, f]) => [role, `oniongrid/${f}`]),
  );
  const mtime = new Date().toISOString();
  return [...pdr, ...onion].map(([role, relPath]) => ({
    role,
    fileName: relPath.split('/').pop(),
    relPath,
    fullPath: `${base}/${relPath}`,
    size: 1000 + relPath.length,
    mtime,
    sha256: crypto.createHash('sha256').update(relPath).digest('hex'),
  }));
}

function executableRecords(job) {
  const one = (role, fileName) => ({
    role,
    fileName,
    fullPath: `${job.run.baseDir}/${fileName}`,
    sha256: crypto.createHash('sha256').update(fileName).digest('hex'),
    revision: 'virtual',
    compilationDate: null,
    reasons: [],
  });
  return [one('pdr', job.run.pdrFileName), one('onion', job.run.onionFileName)];
}

/** Nearest-rank percentile of a list of numbers (not sorted in place). */
function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Starts `runners` virtual runners of `slots` slots each on namespace `ns` (the job stream and its
 * consumer must exist: state creates them). Returns the fleet: its counters, per-job records, `stop()`.
 *
 * Options: natsUrl, ns, runners, slots, duration ('fixed:50', 'uniform:10-300', 'exp:100', a number
 * or a function), heartbeatMs (default LIMITS.HEARTBEAT_INTERVAL_MS), stepDelayMs
 * (LIMITS.STEP_REPORT_DELAY_MS), requestTimeoutMs (LIMITS.REQUEST_TIMEOUT_MS), retryDelayMs
 * (LIMITS.TRANSIENT_RETRY_DELAY_MS), pullExpiresMs (2000),
 * label (runner id prefix), progress (a function given a one-line summary every 5 s).
 */
async function startVirtualRunners(o) {
  const heartbeatMs = o.heartbeatMs ?? LIMITS.HEARTBEAT_INTERVAL_MS;
  const stepDelayMs = o.stepDelayMs ?? LIMITS.STEP_REPORT_DELAY_MS;
  const requestTimeoutMs = o.requestTimeoutMs ?? LIMITS.REQUEST_TIMEOUT_MS;
  const retryDelayMs = o.retryDelayMs ?? LIMITS.TRANSIENT_RETRY_DELAY_MS;
  const pullExpiresMs = o.pullExpiresMs ?? 2_000;
  const duration = durationFrom(o.duration ?? 'fixed:0');
  const label = o.label ?? `virtual-${crypto.randomBytes(3).toString('hex')}`;

  const fleet = {
    slots: o.runners * o.slots,
    /** jobId → attempts granted to this fleet */
    claims: new Map(),
    /** jobId → outcomes reported: { attempt, status, applied } */
    outcomes: new Map(),
    counts: {
      delivered: 0,
      claimGranted: 0,
      claimRefused: 0,
      claimRetries: 0,
      /** attempts reported alive (one per running job and round) */
      heartbeats: 0,
      /** state.jobs.heartbeat requests (one per runner and round) */
      heartbeatRequests: 0,
      heartbeatErrors: 0,
      lost: 0,
      stepRequests: 0,
      stepErrors: 0,
      finishApplied: 0,
      finishNotApplied: 0,
      finishRetries: 0,
      nakked: 0,
      termed: 0,
      pullErrors: 0,
      /** error replies that are not "state unreachable" (INTERNAL, BAD_REQUEST...): a defect */
      errorReplies: 0,
    },
    /** ms, per answered request */
    latency: { claim: [], finish: [], heartbeat: [] },
    /** first few unexpected errors, for the test's message */
    errors: [],
    running: 0,
    peakRunning: 0,
    /** Resolves once `pred(fleet)` holds (checked after every granted claim and every ended job), or rejects after timeoutMs. */
    until: null,
    stop: null,
    natsStats: null,
  };
  const noteError = (what, err) => {
    if (fleet.errors.length < 20) fleet.errors.push(`${what}: ${err && err.message ? err.message : String(err)}`);
  };
  const waiters = new Set();
  const changed = () => {
    for (const w of [...waiters]) {
      if (w.pred(fleet)) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  };
  fleet.until = (pred, timeoutMs, what = 'the load run') =>
    new Promise((resolve, reject) => {
      if (pred(fleet)) return resolve();
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${what} not done within ${timeoutMs} ms: ${JSON.stringify(fleet.counts)}; errors: ${fleet.errors.join(' | ')}`));
      }, timeoutMs);
      waiters.add(w);
    });

  let stopping = false;
  const runners = [];
  for (let r = 0; r < o.runners; r++) {
    const nc = await connectNats({ url: o.natsUrl, name: `${label}-${r}` });
    runners.push({ id: `${label}-${r}`, nc, client: new ContractClient(nc, o.ns), free: o.slots, jobs: new Set(), wake: null, beats: new Map(), beating: false });
  }

  /** One heartbeat round of a runner: all its running attempts in one state.jobs.heartbeat (≤ 1000 each). */
  async function heartbeatRound(runner) {
    if (runner.beating || runner.beats.size === 0) return;
    runner.beating = true;
    try {
      const list = [...runner.beats.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
      for (let i = 0; i < list.length; i += MAX_HEARTBEATS_PER_REQUEST) {
        const chunk = list.slice(i, i + MAX_HEARTBEATS_PER_REQUEST);
        const t0 = performance.now();
        try {
          const r = await runner.client.request('jobsHeartbeat', { v: 1, runnerId: runner.id, attempts: chunk }, { timeoutMs: requestTimeoutMs });
          fleet.counts.heartbeats += chunk.length;
          fleet.counts.heartbeatRequests++;
          fleet.latency.heartbeat.push(performance.now() - t0);
          for (const b of r.jobs) runner.beats.get(`${b.jobId}:${b.attempt}`)?.onReply(b);
        } catch (err) {
          fleet.counts.heartbeatErrors += chunk.length;
          if (!isTransient(err)) {
            fleet.counts.errorReplies++;
            noteError('heartbeat', err);
          }
        }
      }
    } finally {
      runner.beating = false;
    }
  }
  const beatTimers = runners.map((r) => setInterval(() => void heartbeatRound(r), heartbeatMs));

  async function claim(runner, m, ev, delivery) {
    const keep = setInterval(() => m.working(), heartbeatMs);
    try {
      for (;;) {
        const t0 = performance.now();
        try {
          const reply = await runner.client.request('jobClaim', { v: 1, jobId: ev.jobId, generation: ev.generation, delivery, runnerId: runner.id }, { timeoutMs: requestTimeoutMs });
          fleet.latency.claim.push(performance.now() - t0);
          return reply;
        } catch (err) {
          if (err instanceof ContractError && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST')) {
            fleet.counts.errorReplies++;
            noteError(`claim of job ${ev.jobId}`, err);
            m.term();
            fleet.counts.termed++;
            return null;
          }
          if (isTransient(err) && !stopping) {
            fleet.counts.claimRetries++;
            m.working();
            await sleep(backoff.spread(retryDelayMs)()); // as the runner (apps/runner/src/consume/handle-job.ts)
            continue;
          }
          if (!isTransient(err)) {
            fleet.counts.errorReplies++;
            noteError(`claim of job ${ev.jobId}`, err);
          }
          m.nak(retryDelayMs);
          fleet.counts.nakked++;
          return null;
        }
      }
    } finally {
      clearInterval(keep);
    }
  }

  async function lifecycle(runner, m) {
    fleet.counts.delivered++;
    let ev;
    try {
      ev = jobEvent.parse(JSON.parse(new TextDecoder().decode(m.data)));
    } catch (err) {
      noteError('malformed job event', err);
      m.term();
      fleet.counts.termed++;
      return;
    }
    const delivery = m.info.deliveryCount;
    const reply = await claim(runner, m, ev, delivery);
    if (!reply) return;
    if (!reply.granted) {
      fleet.counts.claimRefused++;
      m.ack();
      return;
    }
    const job = reply.job;
    fleet.counts.claimGranted++;
    if (!fleet.claims.has(job.jobId)) fleet.claims.set(job.jobId, []);
    fleet.claims.get(job.jobId).push(job.attempt);
    fleet.running++;
    fleet.peakRunning = Math.max(fleet.peakRunning, fleet.running);
    changed();
    const ref = { v: 1, jobId: job.jobId, attempt: job.attempt, runnerId: runner.id };
    // as the runner: in-progress acks per job, heartbeats to state per runner (one request for all its jobs)
    let lost = false;
    const beat = setInterval(() => m.working(), heartbeatMs);
    const key = `${job.jobId}:${job.attempt}`;
    runner.beats.set(key, { jobId: job.jobId, attempt: job.attempt, onReply: (b) => (lost = lost || !b.alive) });
    const startedAt = new Date();
    const ms = duration(job);
    const at = () => new Date().toISOString();
    const steps = [{ step: 'setup-finished', detail: { virtual: true }, at: at() }, { step: 'pdr-started', detail: {}, at: at() }];
    let stepsSent = Promise.resolve();
    const stepTimer =
      ms > stepDelayMs
        ? setTimeout(() => {
            const batch = steps.splice(0);
            fleet.counts.stepRequests++;
            stepsSent = runner.client.request('jobStep', { ...ref, steps: batch }, { timeoutMs: requestTimeoutMs }).then(
              () => undefined,
              (err) => {
                fleet.counts.stepErrors++;
                if (!isTransient(err)) {
                  fleet.counts.errorReplies++;
                  noteError('steps', err);
                }
              },
            );
          }, stepDelayMs)
        : null;
    try {
      await sleep(ms);
      if (stepTimer) clearTimeout(stepTimer);
      await stepsSent;
      steps.push({ step: 'pdr-finished', detail: { exitCode: 0 }, at: at() });
      for (const s of job.onionSpecies) steps.push({ step: 'onion-finished', detail: { species: s, exitCode: 0 }, at: at() });
      steps.push({ step: 'outputs-stored', detail: {}, at: at() });
      if (lost) {
        fleet.counts.lost++;
        m.ack();
        return;
      }
      const finishedAt = new Date();
      const finish = {
        ...ref,
        status: 'finished',
        reason: null,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        executionMs: Math.round(finishedAt.getTime() - startedAt.getTime()),
        exitCodes: { pdr: 0, onion: Object.fromEntries(job.onionSpecies.map((s) => [s, 0])) },
        files: fileRecords(job),
        executables: executableRecords(job),
        steps,
      };
      for (let i = 1; ; i++) {
        const t0 = performance.now();
        try {
          const r = await runner.client.request('jobFinish', finish, { timeoutMs: requestTimeoutMs });
          fleet.latency.finish.push(performance.now() - t0);
          if (r.applied) fleet.counts.finishApplied++;
          else fleet.counts.finishNotApplied++;
          if (!fleet.outcomes.has(job.jobId)) fleet.outcomes.set(job.jobId, []);
          fleet.outcomes.get(job.jobId).push({ attempt: job.attempt, status: r.status, applied: r.applied });
          m.ack();
          return;
        } catch (err) {
          if (!isTransient(err)) {
            fleet.counts.errorReplies++;
            noteError(`finish of job ${job.jobId}`, err);
          }
          if (!isTransient(err) || i >= FINISH_ATTEMPTS) {
            m.nak(retryDelayMs);
            fleet.counts.nakked++;
            return;
          }
          fleet.counts.finishRetries++;
          await sleep(Math.min(retryDelayMs, 250 * i));
        }
      }
    } finally {
      clearInterval(beat);
      runner.beats.delete(key);
      fleet.running--;
    }
  }

  async function pullLoop(runner) {
    const consumer = await runner.nc.jetstream().consumers.get(names(o.ns).jobStream, names(o.ns).jobConsumer);
    while (!stopping) {
      if (runner.free === 0) {
        await new Promise((r) => (runner.wake = r));
        continue;
      }
      let iter;
      try {
        iter = await consumer.fetch({ max_messages: runner.free, expires: pullExpiresMs });
        runner.iter = iter;
        for await (const m of iter) {
          if (stopping) {
            m.nak();
            continue;
          }
          runner.free--;
          const p = lifecycle(runner, m)
            .catch((err) => {
              noteError('lifecycle', err);
              m.nak(retryDelayMs);
            })
            .finally(() => {
              runner.jobs.delete(p);
              runner.free++;
              if (runner.wake) {
                const w = runner.wake;
                runner.wake = null;
                w();
              }
              changed();
            });
          runner.jobs.add(p);
        }
        runner.iter = null;
      } catch (err) {
        runner.iter = null;
        if (stopping) break;
        fleet.counts.pullErrors++;
        noteError('pull', err);
        await sleep(500);
      }
    }
  }

  const loops = runners.map((r) => pullLoop(r));
  const t0 = Date.now();
  const progress = o.progress
    ? setInterval(() => {
        const c = fleet.counts;
        const cl = fleet.latencySummary('claim');
        o.progress(
          `${((Date.now() - t0) / 1000).toFixed(0)} s: outcomes ${fleet.outcomes.size}, running ${fleet.running}, claims ${c.claimGranted} (refused ${c.claimRefused}, retried ${c.claimRetries}), finish retries ${c.finishRetries}, heartbeats ${c.heartbeats} (errors ${c.heartbeatErrors}), lost ${c.lost}, nak ${c.nakked}; claim p50 ${cl.p50.toFixed(0)} ms p99 ${cl.p99.toFixed(0)} ms`,
        );
      }, 5_000)
    : null;
  fleet.natsStats = () => {
    const t = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
    for (const r of runners) {
      const s = r.nc.stats();
      for (const k of Object.keys(t)) t[k] += s[k];
    }
    return t;
  };
  fleet.latencySummary = (kind) => {
    const xs = fleet.latency[kind];
    return { n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.length ? Math.max(...xs) : NaN };
  };
  /** Stops pulling, waits for the jobs in hand (at most `graceMs`), closes the connections. */
  fleet.stop = async (graceMs = 30_000) => {
    stopping = true;
    if (progress) clearInterval(progress);
    for (const t of beatTimers) clearInterval(t);
    for (const r of runners) {
      if (r.wake) r.wake();
      if (r.iter) r.iter.stop();
    }
    const inHand = runners.flatMap((r) => [...r.jobs]);
    await Promise.race([Promise.allSettled(inHand), sleep(graceMs)]);
    await Promise.allSettled(runners.map((r) => r.nc.close()));
    await Promise.race([Promise.allSettled(loops), sleep(2_000)]);
  };
  return fleet;
}

/**
 * Samples MariaDB's processlist every `everyMs`: connections whose current database is `db.database`
 * (the state services'; this watcher's own connection has no database). `peak` is the most seen at once,
 * `now()` samples once more. `stop()` closes the connection.
 */
async function watchConnections(db, everyMs = 50) {
  const mysql = require('mysql2/promise');
  const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  const w = { peak: 0, samples: 0, last: 0 };
  const sample = async () => {
    const [[row]] = await conn.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [db.database]);
    w.last = Number(row.n);
    w.peak = Math.max(w.peak, w.last);
    w.samples++;
    return w.last;
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sample().catch(() => undefined);
      await sleep(everyMs);
    }
  })();
  w.now = sample;
  /** Runs a statement on the watcher's connection (tables qualified with the database name). */
  w.query = async (sql, params) => (await conn.query(sql, params))[0];
  w.stop = async () => {
    stopped = true;
    await loop;
    await conn.end().catch(() => undefined);
  };
  return w;
}

module.exports = { startVirtualRunners, watchConnections, durationFrom, percentile, fileRecords };
