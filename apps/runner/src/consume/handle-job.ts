import { backoff, ClaimedJob, ContractError, FileRole, jobEvent, JobFinishRequest, RpcRequest, StoredFileInfo, withRetry } from '@pdr/contracts';
import { ContractClient, decodeJson, ServiceUnavailableError } from '@pdr/messaging/client';
import { createStorage } from '@pdr/storage';
import type { Logger } from '@pdr/logging';
import { JsMsg } from 'nats';
import { hostname } from 'os';
import { runJob, readBaseDir, JobRunResult, type BaseDirReads, type JobDirPool, type JobRunSpec } from '../execution';
import { ProvenanceCache } from '../prepare/provenance';
import { renderInputs } from '../prepare/render-inputs';
import { RUNNER_LIMITS } from './limits';
import { RunnerHeartbeats } from './heartbeats';
import { slotUnlessAborted, type SlotLease } from './slot-gate';
import { StepReporter } from './step-reporter';
import type { RunnerMetrics } from './metrics';

export interface HandlerDeps {
  state: ContractClient;
  runnerId: string;
  workRoot: string;
  maxDeliver: number;
  logger: Logger;
  provenance: ProvenanceCache;
  heartbeatMs?: number;
  retryDelayMs?: number;
  metrics?: RunnerMetrics;
  /** Job directories reused by the slot's next job (see JobDirPool); without it each is removed. */
  jobDirs?: JobDirPool;
}

/** Why a running job was stopped from outside. */
export type AbortReason = 'shutdown' | 'cancel' | 'lost';

export interface RunningJob {
  jobId: number;
  gridId: number;
  /** False while a job claimed ahead waits for its slot (it has not begun to run). */
  started: boolean;
  abort(reason: AbortReason): void;
  done: Promise<void>;
}


const isTransient = (err: unknown) => err instanceof ServiceUnavailableError || (err instanceof ContractError && err.code === 'UNAVAILABLE');
/** State does not know the event's job (another database's, or deleted): asking again cannot help. */
const isUnknownJob = (err: unknown) => err instanceof ContractError && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST');

/**
 * Use case "run a job event": claim through state (compare-and-set; a lost claim → ack and nothing else),
 * keep the event and the claim alive while the job runs, report the outcome, and ack only once state has
 * recorded it. Transient trouble → nak with a delay; deliveries past max_deliver → failed with the reason.
 */
export class JobHandler {
  readonly running = new Map<number, RunningJob>();
  /** Set by the consumer on shutdown: claims are no longer retried in place. */
  stopping = false;

  private readonly heartbeats: RunnerHeartbeats;

  constructor(private readonly d: HandlerDeps) {
    this.heartbeats = new RunnerHeartbeats(
      (attempts) => d.state.request('jobsHeartbeat', { v: 1, runnerId: d.runnerId, attempts }),
      d.heartbeatMs ?? RUNNER_LIMITS.HEARTBEAT_INTERVAL_MS,
      d.logger,
    );
  }

  /** Jobs claimed ahead that wait for their slot (claimed, heartbeated, not running yet). */
  private waiting = 0;

  /** Jobs in a slot: claimed ones that wait for their slot do not count. */
  get busy(): number {
    return this.running.size - this.waiting;
  }

  async handle(m: JsMsg, lease?: SlotLease): Promise<void> {
    const log = this.d.logger;
    let ev;
    try {
      ev = jobEvent.parse(decodeJson(m.data));
    } catch (err) {
      log.error({ subject: m.subject, seq: m.seq, err: (err as Error).message }, 'malformed job event dropped');
      // no reason text: nats-server < 2.10 ignores `+TERM <reason>` and redelivers the event (the reason is logged)
      m.term();
      return;
    }
    const delivery = m.info.deliveryCount;
    const lastDelivery = delivery >= this.d.maxDeliver;
    const retryDelay = this.d.retryDelayMs ?? RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS;

    let claim;
    // While state (or its database) is unreachable the event is kept (in-progress acks) and the claim asked
    // again: a delivery is spent only on an answer. Nak'ing instead burnt every delivery of the queued events
    // within seconds of an outage, and the last one could not even be recorded as failed (state away), so
    // the job stayed `queued` with no event left — a silent drop.
    const keep = setInterval(() => m.working(), this.d.heartbeatMs ?? RUNNER_LIMITS.HEARTBEAT_INTERVAL_MS);
    try {
      claim = await withRetry(
        () => this.d.state.request('jobClaim', { v: 1, jobId: ev.jobId, generation: ev.generation, db: ev.db, delivery, runnerId: this.d.runnerId }),
        {
          // no limit on tries: the event is kept alive meanwhile, and shutdown ends the wait; the pause is
          // spread around retryDelay so slots refused together (claims shed by a busy state) do not return together
          attempts: Infinity,
          delayMs: backoff.spread(retryDelay),
          retryable: (err) => !isUnknownJob(err) && isTransient(err) && !this.stopping,
          onRetry: (err, n) => {
            if (n === 1) log.warn({ jobId: ev.jobId, delivery, err: (err as Error).message }, 'state unreachable; claim retried until it answers');
            m.working();
          },
        },
      );
    } catch (err) {
      if (isUnknownJob(err)) {
        log.error({ jobId: ev.jobId, err: (err as Error).message }, 'job event for no known job dropped');
        m.term();
        return;
      }
      log.warn({ jobId: ev.jobId, delivery, err: (err as Error).message }, 'claim failed, will retry');
      if (lastDelivery) await this.abandon(ev.jobId, `could not be claimed in ${delivery} deliveries: ${(err as Error).message}`);
      m.nak(retryDelay);
      return;
    } finally {
      clearInterval(keep);
    }
    if (!claim.granted) {
      log.info({ jobId: ev.jobId, status: claim.status, reason: claim.reason }, 'claim not granted, event dropped');
      m.ack();
      return;
    }
    await this.runClaimed(m, claim.job, lastDelivery, delivery, lease);
  }

  private async runClaimed(m: JsMsg, job: ClaimedJob, lastDelivery: boolean, delivery: number, lease?: SlotLease): Promise<void> {
    const log = this.d.logger.child({ jobId: job.jobId, job: job.jobName, attempt: job.attempt });
    const ctrl = new AbortController();
    let abortReason: AbortReason | null = null;
    let resolveDone!: () => void;
    const entry: RunningJob = {
      jobId: job.jobId,
      gridId: job.gridId,
      started: !lease,
      abort: (reason) => {
        if (!abortReason) abortReason = reason;
        ctrl.abort();
      },
      done: new Promise<void>((r) => (resolveDone = r)),
    };
    this.running.set(job.jobId, entry);
    const ref = { v: 1 as const, jobId: job.jobId, attempt: job.attempt, runnerId: this.d.runnerId };
    // JetStream hears from every job (in-progress ack); state from the runner, for all its jobs at once
    const beat = setInterval(() => m.working(), this.d.heartbeatMs ?? RUNNER_LIMITS.HEARTBEAT_INTERVAL_MS);
    const unbeat = this.heartbeats.add(job.jobId, job.attempt, (r) => {
      if (!r.alive) entry.abort('lost');
      else if (r.cancel) entry.abort('cancel');
    });

    const steps = new StepReporter((batch) =>
      this.d.state
        .request('jobStep', { ...ref, steps: batch })
        .then(() => undefined)
        .catch((err) => log.warn({ err: (err as Error).message, steps: batch.map((x) => x.step) }, 'steps not recorded')),
    );

    const startedAt = new Date();
    /** An executable died of SIGTERM/SIGKILL that this runner did not send (see below). */
    let killedFromOutside = false;
    let result: JobRunResult | null = null;
    let executables: JobFinishRequest['executables'] = [];
    let failure: { reason: string; transient: boolean } | null = null;
    let reporting: Promise<void> | null = null;
    let releaseSlot: (() => void) | null = null;
    try {
      // provenance and inputs at once (both read the base dir); a provenance failure is reported first
      const [probed, rendered] = await Promise.allSettled([
        Promise.all([this.d.provenance.get('pdr', job.run.baseDir, job.run.pdrFileName), this.d.provenance.get('onion', job.run.baseDir, job.run.onionFileName)]),
        renderInputs(job),
      ]);
      if (probed.status === 'rejected') throw probed.reason;
      executables = probed.value;
      if (rendered.status === 'rejected') throw rendered.reason;
      const inputs = rendered.value;
      for (const w of inputs.warnings) log.warn(w);
      const spec: JobRunSpec = {
        jobKey: String(job.jobId),
        attempt: job.attempt,
        modelName: job.modelName,
        jobName: job.jobName,
        baseDir: job.run.baseDir,
        workRoot: this.d.workRoot,
        executables: { pdr: job.run.pdrFileName, onion: job.run.onionFileName },
        chemDatabase: job.run.chemDatabase,
        species: job.onionSpecies,
        inputs: { pdrnewInp: inputs.pdrnewInp, pdrConfigJson: inputs.pdrConfigJson },
        timeouts: { pdrMs: job.run.timeouts.pdrMs, onionMs: job.run.timeouts.onionMs },
        keepTmp: job.run.keepTmp,
        forceOnion: job.run.forceOnion,
        recorded: Object.fromEntries((job.recordedFiles ?? []).map((f) => [f.role, { relPath: f.relPath, size: f.size, sha256: f.sha256 }])),
        quarantine: job.quarantine ?? null,
      };
      // A job claimed ahead waits here until the slot's previous job has stored its outputs (an abort —
      // cancel, lost claim, shutdown — ends the wait at once: the job is then released, never run).
      // Meanwhile the base dir's checks and listings for its job directory are read (read-only).
      let baseDirReads: BaseDirReads | undefined;
      if (lease) {
        if (this.stopping) entry.abort('shutdown'); // claimed while the runner stops: released, not run
        else baseDirReads = readBaseDir(spec, { needPdr: true, needOnion: spec.species.length > 0 });
        this.waiting++;
        try {
          releaseSlot = await slotUnlessAborted(lease.acquire, ctrl.signal);
        } finally {
          this.waiting--;
        }
        if (!releaseSlot) throw new NotStarted();
        entry.started = true;
      }
      result = await runJob(
        spec,
        {
          storage: this.measured(createStorage(job.run.storage, { logger: log }), job.run.storage.type),
          signal: ctrl.signal,
          onStoring: () => lease?.storing(),
          jobDirs: this.d.jobDirs,
          baseDirReads,
          report: async (event) => {
            this.d.metrics?.step(event);
            const { type, jobKey: _k, attempt: _a, at, ...detail } = event;
            const sig = (detail as { signal?: string | null; timedOut?: boolean }).signal;
            if ((type === 'pdr-finished' || type === 'onion-finished') && (sig === 'SIGTERM' || sig === 'SIGKILL') && !(detail as { timedOut?: boolean }).timedOut && !abortReason) {
              killedFromOutside = true;
            }
            // the kept outputs' runner too: recorded with the job for whichever runner claims it next
            steps.add({ step: type, detail: type === 'outputs-quarantined' ? { ...detail, runnerId: this.d.runnerId } : detail, at: at.toISOString() });
          },
        },
      );
      for (const w of result.warnings) log.warn(w);
      // pdr show reports the kept directory (--keep-tmp) from this step
      if (result.workDirKept && result.workDir) steps.add({ step: 'work-dir-kept', detail: { workDir: result.workDir, host: hostname() }, at: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof NotStarted)) failure = { reason: (err as Error).message, transient: false };
    } finally {
      releaseSlot?.();
    }

    try {
      // the batch system's signal may reach the executable a moment before this runner's own
      if (killedFromOutside && !this.stopping) await this.stoppingWithin(RUNNER_LIMITS.OUTSIDE_KILL_WAIT_MS);
      let reasonNow = abortReason as AbortReason | null;
      // A runner told to stop whose job ended badly meanwhile hands the job back: a batch system that
      // ends an allocation (scancel, time limit) signals every process of it, the executables too, and
      // their death is the shutdown's, not the model's.
      if (reasonNow === null && this.stopping && (failure || (result && result.status !== 'finished' && result.status !== 'skipped'))) reasonNow = 'shutdown';
      if (reasonNow === 'lost') {
        await steps.flush(); // the lost attempt's history is still kept
        log.warn('attempt lost its claim (another runner took the job over); outcome not reported');
        m.ack();
        return;
      }
      if (reasonNow === 'shutdown') {
        await steps.flush();
        await this.d.state.request('jobRelease', { ...ref, reason: 'runner shut down' }).catch((err) => log.warn({ err: (err as Error).message }, 'release not recorded'));
        m.nak();
        log.info('released for another runner (shutdown)');
        return;
      }
      const finishedAt = new Date();
      const base = {
        ...ref,
        startedAt: (result?.startedAt ?? startedAt).toISOString(),
        finishedAt: (result?.finishedAt ?? finishedAt).toISOString(),
        executionMs: result?.executionMs ?? finishedAt.getTime() - startedAt.getTime(),
        exitCodes: { pdr: result?.exitCodes.pdr ?? null, onion: result?.exitCodes.onion ?? {} },
        files: result ? toStoredFiles(result) : [],
        executables,
      };
      let finish: RpcRequest<'jobFinish'>;
      if (reasonNow === 'cancel') {
        finish = { ...base, status: 'cancelled', reason: 'cancelled by the user (--kill)' };
      } else if (failure) {
        finish = { ...base, status: 'failed', reason: failure.reason };
      } else if (result!.status === 'aborted') {
        finish = { ...base, status: 'failed', reason: result!.reason ?? 'aborted' };
      } else if (result!.status === 'failed' && retryable(result!) && !lastDelivery) {
        // transient (storage) or a timeout: give the event back for a later delivery
        log.warn({ reason: result!.reason, delivery }, 'transient failure, job released for a retry');
        await steps.flush();
        await this.d.state.request('jobRelease', { ...ref, reason: result!.reason ?? 'transient failure' }).catch(() => undefined);
        m.nak(this.d.retryDelayMs ?? RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS);
        return;
      } else if (result!.status === 'failed') {
        const suffix = lastDelivery && retryable(result!) ? ` (gave up after ${delivery} deliveries)` : '';
        finish = { ...base, status: 'failed', reason: `${result!.reason ?? 'failed'}${suffix}` };
      } else {
        finish = { ...base, status: result!.status, reason: result!.reason ?? speciesReason(result!) };
      }
      // the steps not yet reported are recorded with the outcome, in the same transaction
      finish.steps = await steps.take();
      // Pipelined: the slot is free once the outcome is known and its files are stored; state records it
      // (and the event is acked) while the slot already pulls and claims its next job. A quick job no longer
      // waits a finish round trip before the next one starts (npm run bench, docs/benchmarks.md). The job
      // stays in `running` until its outcome is recorded, so a shutdown waits for the report.
      reporting = this.report(finish, m, log).catch((err) => log.error({ err: (err as Error).message }, 'outcome report failed unexpectedly'));
    } finally {
      // the heartbeat runs until the outcome is reported: flushing steps and retrying the finish may take
      // longer than the stale-heartbeat window, and the job must not be reclaimed meanwhile
      const settle = () => {
        clearInterval(beat);
        unbeat();
        this.running.delete(job.jobId);
        resolveDone();
      };
      if (reporting) void reporting.then(settle);
      else settle();
    }
  }

  private measured<S extends object>(storage: S, backend: string): S {
    return this.d.metrics ? this.d.metrics.measureStorage(storage, backend) : storage;
  }

  private async stoppingWithin(ms: number): Promise<void> {
    for (const until = Date.now() + ms; !this.stopping && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  }

  /** Reports the outcome; acks only once state has recorded it. */
  private async report(finish: RpcRequest<'jobFinish'>, m: JsMsg, log: Logger): Promise<void> {
    let r;
    try {
      r = await withRetry(() => this.d.state.request('jobFinish', finish), {
        attempts: RUNNER_LIMITS.FINISH_REPORT_ATTEMPTS,
        delayMs: backoff.linear(RUNNER_LIMITS.FINISH_REPORT_BACKOFF_MS),
        retryable: isTransient,
      });
    } catch (err) {
      log.error({ err: (err as Error).message, status: finish.status }, 'outcome not recorded; event will be redelivered');
      m.nak(this.d.retryDelayMs ?? RUNNER_LIMITS.TRANSIENT_RETRY_DELAY_MS);
      return;
    }
    log.info({ status: finish.status, applied: r.applied, reason: finish.reason }, 'job outcome recorded');
    if (r.applied) this.d.metrics?.jobEnded(finish.status, finish.executionMs);
    m.ack();
  }

  private async abandon(jobId: number, reason: string): Promise<void> {
    await this.d.state
      .request('jobAbandon', { v: 1, jobId, runnerId: this.d.runnerId, reason })
      .catch((err) => this.d.logger.error({ jobId, err: (err as Error).message }, 'could not record the abandoned job'));
  }
}

/** A job claimed ahead was aborted before its slot was free: it never ran (the abort reason says what follows). */
class NotStarted extends Error {}

/** Storage trouble and timeouts may pass (a busy machine, a flaky mount): retried until max_deliver. */
function retryable(r: JobRunResult): boolean {
  return r.transient === true || r.failure === 'timeout';
}

function speciesReason(r: JobRunResult): string | null {
  const entries = Object.entries(r.speciesFailures ?? {});
  return entries.length ? entries.map(([s, why]) => `onion ${s}: ${why}`).join('; ') : null;
}

/** The execution result's stored files in the contract's shape. */
function toStoredFiles(r: JobRunResult): StoredFileInfo[] {
  const raw = r.files as unknown;
  const list: Array<{ role: string } & Record<string, unknown>> = Array.isArray(raw)
    ? (raw as Array<{ role: string } & Record<string, unknown>>)
    : Object.entries(raw as Record<string, Record<string, unknown>>).map(([role, f]) => ({ ...f, role }));
  return list.map((f) => {
    const relPath = String(f.relPath);
    return {
      // the roles come from pdrRolePaths/onionRole (the contract's); the request is checked against it on sending
      role: f.role as FileRole,
      fileName: relPath.split('/').pop()!,
      relPath,
      fullPath: String(f.fullPath),
      size: Number(f.size),
      mtime: new Date(f.mtime as string | Date).toISOString(),
      sha256: String(f.sha256),
    };
  });
}
