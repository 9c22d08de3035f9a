import { DispatchJob, JobEvent, LIMITS, MAX_POINTS_PER_BATCH } from '@pdr/contracts';
import { ContractClient, JobStream } from '@pdr/messaging';
import type { Logger } from 'pino';
import { chunks } from '../submit-grid/grid-points';

/** Rounds of "publish, find swallowed duplicates, give them a new generation" before the sweep takes over. */
const MAX_ROUNDS = 3;

/**
 * Use case "dispatch jobs": the one place that puts job events into the stream (submit, retry, the
 * reconciler's requeued jobs and the dispatch sweep all come here). Outbox rule: publish first, then
 * pending → queued, so what the database says is queued has an event in the stream (a crash in between
 * leaves the jobs pending, and the sweep publishes them). A publish JetStream acknowledges as a duplicate
 * is checked: when the message it duplicates is no longer in the stream the job gets a new generation
 * (state) and is published again, instead of being counted as queued with no event.
 */
export class JobDispatcher {
  constructor(
    private readonly state: ContractClient,
    private readonly stream: JobStream,
    private readonly log: Logger,
  ) {}

  /** Publishes the jobs' events and marks them queued; returns how many are now in the stream. */
  async dispatch(installationId: string, jobs: readonly DispatchJob[]): Promise<number> {
    let todo = jobs;
    let db = installationId;
    let inStream = 0;
    for (let round = 1; todo.length; round++) {
      const events: JobEvent[] = todo.map(([jobId, gridId, generation]) => ({ v: 1, jobId, gridId, generation, db }));
      const { swallowed } = await this.stream.publish(events);
      const lost = new Set(swallowed.map((e) => e.jobId));
      const published = events.filter((e) => !lost.has(e.jobId)).map((e) => e.jobId);
      for (const ids of chunks(published, MAX_POINTS_PER_BATCH)) {
        await this.state.request('markQueued', { v: 1, jobIds: ids }, { timeoutMs: LIMITS.BATCH_REQUEST_TIMEOUT_MS });
      }
      inStream += published.length;
      if (!lost.size) break;
      if (round === MAX_ROUNDS) {
        this.log.error({ jobs: lost.size, rounds: round }, 'job events still swallowed as duplicates; left pending for the dispatch sweep');
        break;
      }
      this.log.warn({ jobs: lost.size }, 'job events swallowed as duplicates of events no longer in the stream; publishing them with a new generation');
      const again = await this.state.request('jobsRedispatch', {
        v: 1,
        jobIds: [...lost],
        reason: 'its event was taken for a duplicate of one no longer in the stream',
      });
      todo = again.jobs;
      db = again.installationId;
    }
    return inStream;
  }
}
