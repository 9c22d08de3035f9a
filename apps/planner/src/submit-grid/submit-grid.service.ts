import { Inject, Injectable } from '@nestjs/common';
import { ContractError, DispatchJob, GridSubmitReply, LIMITS, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { ContractClient } from '@pdr/messaging';
import type { Logger } from 'pino';
import { JobDispatcher } from '../dispatch/job-dispatcher';
import { CLIENT, DISPATCHER, LOGGER } from '../infrastructure/tokens';
import { chunks, planPoints } from './grid-points';
import { gridRequestHash } from './request-hash';
import { validateGridPhysics } from '@pdr/domain';

/**
 * Use case "submit a grid": validate with the domain library, have state persist grid, points and jobs in
 * batches, publish one job event per point that needs to run, mark them queued, reply with counts.
 * Idempotent: a resubmission inserts nothing, finished points are not run again, unfinished ones are
 * left to the queue they are in (the dispatch sweep restores lost events), failed ones only with retryFailed.
 */
@Injectable()
export class SubmitGridService {
  constructor(
    @Inject(CLIENT) private readonly state: ContractClient,
    @Inject(DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async submit(req: RpcRequestParsed<'gridSubmit'>): Promise<GridSubmitReply> {
    const r = req.request;
    let plan: ReturnType<typeof planPoints>;
    try {
      plan = planPoints(r);
      // the checks state makes when it builds the parameter rows, made before anything is stored
      validateGridPhysics(r.axes, r.physics);
    } catch (err) {
      if (err instanceof ContractError) throw err;
      throw new ContractError('BAD_REQUEST', (err as Error).message);
    }
    if (plan.count > req.maxPoints) {
      throw new ContractError('TOO_LARGE', `grid has ${plan.count} points, more than the limit of ${req.maxPoints} (raise it with --max-points)`);
    }
    const t0 = Date.now();
    const grid = await this.state.request('gridUpsert', {
      v: 1,
      modelName: r.modelName,
      modelPath: joinPath(r.run.storage.baseDir, r.modelName),
      description: r.description,
      requestHash: gridRequestHash(r),
      user: r.user,
      chemicalDatabase: { fileName: r.run.chemDatabase, fullPath: joinPath(r.run.baseDir, 'pdrinpdata', r.run.chemDatabase), origin: r.chemOrigin },
      physics: r.physics,
      onionSpecies: r.onionSpecies,
      run: r.run,
      pointCount: plan.count,
      seed: r.random?.seed ?? null,
    });
    const counts: Counts = { created: 0, alreadyDone: 0, queued: 0, inProgress: 0, notRetried: 0 };
    // Pipelined, at most one batch ahead: while state upserts batch k + 1, batch k's events are published
    // and its jobs marked queued (state's SQL and the publishing overlap instead of waiting for each other).
    // Events still go to the stream in batch order. On a failure in any stage the submission waits for
    // the other stage in flight to settle, then fails with the error of the earlier batch: nothing runs
    // on after the reply, and what was left pending is republished by a resubmission or the reconciler.
    let previous: Promise<void> = Promise.resolve();
    try {
      for (const batch of chunks(plan.points(), LIMITS.PLANNER_BATCH_POINTS)) {
        const upsert = this.state.request(
          'pointsUpsert',
          { v: 1, gridId: grid.gridId, points: batch, retryFailed: req.retryFailed },
          { timeoutMs: LIMITS.BATCH_REQUEST_TIMEOUT_MS },
        );
        const [done, upserted] = await Promise.allSettled([previous, upsert]);
        previous = Promise.resolve();
        if (done.status === 'rejected') throw done.reason;
        if (upserted.status === 'rejected') throw upserted.reason;
        previous = this.queue(grid.gridId, grid.installationId, upserted.value.jobs, counts);
      }
      await previous;
    } catch (err) {
      await previous.catch(() => undefined);
      throw err;
    }
    this.log.info({ gridId: grid.gridId, modelName: r.modelName, total: plan.count, ...counts, ms: Date.now() - t0 }, 'grid planned');
    return { gridId: grid.gridId, modelName: r.modelName, total: plan.count, ...counts, seed: r.random?.seed ?? null };
  }

  /** Counts one upserted batch and dispatches its pending and queued jobs (published, then marked queued). */
  private async queue(gridId: number, installationId: string, jobs: readonly UpsertedJob[], counts: Counts): Promise<void> {
    const toDispatch: DispatchJob[] = [];
    for (const [jobId, status, generation, created] of jobs) {
      if (created) counts.created++;
      switch (status) {
        case 'pending':
          toDispatch.push([jobId, gridId, generation]);
          break;
        case 'queued':
          // its event is in the stream (published before it was marked queued); should the stream have
          // lost it, the dispatch sweep publishes it again
          counts.queued++;
          break;
        case 'running':
          counts.inProgress++;
          break;
        case 'finished':
        case 'skipped':
          counts.alreadyDone++;
          break;
        default:
          counts.notRetried++;
      }
    }
    if (toDispatch.length) await this.dispatcher.dispatch(installationId, toDispatch);
    counts.queued += toDispatch.length;
  }
}

type UpsertedJob = RpcReply<'pointsUpsert'>['jobs'][number];
type Counts = Record<'created' | 'alreadyDone' | 'queued' | 'inProgress' | 'notRetried', number>;

function joinPath(...parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, ''))).join('/');
}
