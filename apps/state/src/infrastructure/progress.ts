import { Names, ProgressEvent } from '@pdr/contracts';
import { encodeJson } from '@pdr/messaging';
import { all, asJobStatus, chunk, Em, fromDbTime, inList } from '@pdr/persistence';
import type { Logger } from '@pdr/logging';
import type { NatsConnection } from 'nats';
import { requestEm } from './request-em';


/**
 * A changed job as its use case read it inside its own transaction, after its change: the columns of a
 * progress event and `grid_ids`, the grids it belongs to (GROUP_CONCAT of grid_points.grid_id, see
 * PROGRESS_COLUMNS_SQL). With these the publisher needs no query of its own.
 */
export interface ProgressRow {
  id: number;
  grid_ids: string | null;
  model_job_name: string;
  status: string;
  attempt: number;
  reason: string | null;
  at: string | null;
  execution_ms: number | string | null;
}

/** A progress row of one grid (the publisher's query per grid, and a ProgressRow split by its grids). */
type Row = Omit<ProgressRow, 'grid_ids'> & { grid_id: number | null };

/** SELECT columns (on `pdr_model_jobs j`) of a ProgressRow, for a use case's own read of the job. */
export const PROGRESS_COLUMNS_SQL =
  'j.model_job_name, j.status, j.attempt, j.reason, COALESCE(j.time_updated, j.time_created) AS at, j.execution_ms, ' +
  '(SELECT GROUP_CONCAT(gp.grid_id) FROM grid_points gp WHERE gp.job_id = j.id) AS grid_ids';

/**
 * Progress events (plain NATS, informational): after a transition, one event per job and grid it
 * belongs to on `<ns>.events.progress.<gridId>`, with the job's state as committed. Publishing never
 * fails a request: problems are only logged.
 */
export class ProgressPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
    private readonly logger: Logger,
    /** Counts jobs per new status (metrics), once per job however many grids it belongs to. */
    private readonly transitions?: { inc(labels: { status: string }): void },
  ) {}

  /**
   * A use case that changes jobs, run with the message's entity manager, and then the progress events of
   * the jobs it changed (as committed); its reply is returned.
   */
  async afterChange<R>(useCase: (em: Em) => Promise<{ reply: R; changed: readonly number[]; progress?: readonly ProgressRow[] }>): Promise<R> {
    const em = requestEm();
    const { reply, changed, progress } = await useCase(em);
    // a use case that read its changed jobs in its transaction hands them over: no second query (and
    // no second wait for a pooled connection) per claim and finish
    if (progress) this.publishRows(progress);
    else await this.publishJobs(em, changed);
    return reply;
  }

  /** Progress events of rows a use case read after its change (committed by now). */
  publishRows(rows: readonly ProgressRow[]): number {
    const flat: Row[] = [];
    for (const r of rows) {
      for (const g of (r.grid_ids ?? '').split(',')) if (g !== '') flat.push({ ...r, grid_id: Number(g) });
      if (!r.grid_ids) flat.push({ ...r, grid_id: null });
    }
    try {
      return this.publishFlat(flat);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, jobs: rows.length }, 'progress events not published');
      return 0;
    }
  }

  async publishJobs(em: Em, jobIds: readonly number[]): Promise<number> {
    if (!jobIds.length) return 0;
    let sent = 0;
    try {
      for (const ids of chunk([...new Set(jobIds)], 1000)) {
        // STRAIGHT_JOIN: jobs by primary key first, then their memberships by grid_points' job_id index.
        // Left to itself the optimizer sometimes (statistics of a growing grid_points) read grid_points
        // first: 5 ms became 150 ms per 1000 jobs, and planning 100k points 10 s became 15-31 s.
        const rows = await all<Row>(
          em,
          `SELECT j.id, gp.grid_id, j.model_job_name, j.status, j.attempt, j.reason, COALESCE(j.time_updated, j.time_created) AS at, j.execution_ms
           FROM pdr_model_jobs j STRAIGHT_JOIN grid_points gp ON gp.job_id = j.id WHERE j.id IN (${inList(ids.length)})`,
          ids,
        );
        sent += this.publishFlat(rows);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, jobs: jobIds.length }, 'progress events not published');
    }
    return sent;
  }

  /** One event per (job, grid) row; transitions counted once per job. */
  private publishFlat(rows: readonly Row[]): number {
    let sent = 0;
    if (this.transitions) {
      const seen = new Set<number>();
      for (const r of rows) if (!seen.has(r.id) && seen.add(r.id)) this.transitions.inc({ status: r.status });
    }
    for (const r of rows) {
      if (r.grid_id === null) continue;
      const ev: ProgressEvent = {
        v: 1,
        gridId: r.grid_id,
        jobId: r.id,
        jobName: r.model_job_name,
        status: asJobStatus(r.status),
        attempt: r.attempt,
        reason: r.reason,
        at: fromDbTime(r.at) ?? new Date().toISOString(),
        executionMs: r.execution_ms === null ? null : Number(r.execution_ms),
      };
      this.nc.publish(this.n.progress(r.grid_id), encodeJson(ev));
      sent++;
    }
    return sent;
  }
}
