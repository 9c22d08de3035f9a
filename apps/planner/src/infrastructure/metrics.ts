import { GridSubmitReply, JobEvent, Names } from '@pdr/contracts';
import { JobStream, LATENCY_BUCKETS, metricsOn, newRegistry, PublishOutcome, Registry, requestMetrics } from '@pdr/messaging';
import type { NatsConnection } from 'nats';

/** The planner's metrics: points planned (by what became of them), job events published, publish latency, request latency. */
export class PlannerMetrics {
  readonly registry: Registry = newRegistry('planner');
  private readonly observeRequest = requestMetrics(this.registry);
  private readonly m = metricsOn(this.registry);
  readonly pointsPlanned = this.m.counter(
    'pdr_planner_points_planned_total',
    'points of submitted grids by what became of them: created (new to the database), queued (job event published), already_done, in_progress, not_retried',
    ['result'],
    ['created', 'queued', 'already_done', 'in_progress', 'not_retried'],
  );
  readonly gridsSubmitted = this.m.counter('pdr_planner_grids_submitted_total', 'grid submissions answered', ['outcome']);
  readonly eventsPublished = this.m.counter(
    'pdr_planner_job_events_published_total',
    'job events published to the stream (swallowed: taken for a duplicate of an event no longer in the stream, published again with a new generation)',
    ['result'],
    ['published', 'swallowed'],
  );
  readonly publishSeconds = this.m.histogram('pdr_planner_publish_duration_seconds', 'time to publish one batch of job events and have JetStream acknowledge them all', LATENCY_BUCKETS);
  readonly publishedPerBatch = this.m.histogram('pdr_planner_publish_batch_events', 'job events per published batch', [1, 10, 100, 1000, 5000, 10000]);

  /** The observer for startContractService: request latency, and the figures of each submit's reply. */
  observe = (rpc: string, seconds: number, outcome: string, reply: unknown): void => {
    this.observeRequest(rpc, seconds, outcome);
    if (rpc !== 'gridSubmit') return;
    this.gridsSubmitted.inc({ outcome });
    if (outcome !== 'ok') return;
    const r = reply as GridSubmitReply;
    this.pointsPlanned.inc({ result: 'created' }, r.created);
    this.pointsPlanned.inc({ result: 'queued' }, r.queued);
    this.pointsPlanned.inc({ result: 'already_done' }, r.alreadyDone);
    this.pointsPlanned.inc({ result: 'in_progress' }, r.inProgress);
    this.pointsPlanned.inc({ result: 'not_retried' }, r.notRetried);
  };
}

/** The job stream with its publish batches timed and counted. */
export class MeasuredJobStream extends JobStream {
  constructor(
    nc: NatsConnection,
    n: Names,
    private readonly m: PlannerMetrics,
  ) {
    super(nc, n);
  }

  override async publish(events: JobEvent[]): Promise<PublishOutcome> {
    const end = this.m.publishSeconds.startTimer();
    const r = await super.publish(events);
    end();
    this.m.publishedPerBatch.observe(events.length);
    this.m.eventsPublished.inc({ result: 'published' }, r.published);
    this.m.eventsPublished.inc({ result: 'swallowed' }, r.swallowed.length);
    return r;
  }
}
