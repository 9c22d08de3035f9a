import { GridSubmitReply, JobEvent, Names } from '@pdr/contracts';
import { Counter, Histogram, JobStream, LATENCY_BUCKETS, newRegistry, PublishOutcome, Registry, requestMetrics } from '@pdr/messaging';
import type { NatsConnection } from 'nats';

/** The planner's metrics: points planned (by what became of them), job events published, publish latency, request latency. */
export class PlannerMetrics {
  readonly registry: Registry = newRegistry('planner');
  private readonly observeRequest = requestMetrics(this.registry);
  readonly pointsPlanned = new Counter({
    name: 'pdr_planner_points_planned_total',
    help: 'points of submitted grids by what became of them: created (new to the database), queued (job event published), already_done, in_progress, not_retried',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly gridsSubmitted = new Counter({ name: 'pdr_planner_grids_submitted_total', help: 'grid submissions answered', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly eventsPublished = new Counter({
    name: 'pdr_planner_job_events_published_total',
    help: 'job events published to the stream (swallowed: taken for a duplicate of an event no longer in the stream, published again with a new generation)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly publishSeconds = new Histogram({
    name: 'pdr_planner_publish_duration_seconds',
    help: 'time to publish one batch of job events and have JetStream acknowledge them all',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly publishedPerBatch = new Histogram({
    name: 'pdr_planner_publish_batch_events',
    help: 'job events per published batch',
    buckets: [1, 10, 100, 1000, 5000, 10000],
    registers: [this.registry],
  });

  constructor() {
    for (const r of ['created', 'queued', 'already_done', 'in_progress', 'not_retried']) this.pointsPlanned.inc({ result: r }, 0);
    for (const r of ['published', 'swallowed']) this.eventsPublished.inc({ result: r }, 0);
  }

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
