import {
  AckPolicy,
  ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamManager,
  NatsConnection,
  nanos,
  millis,
  RetentionPolicy,
  StorageType,
  StreamConfig,
  headers as natsHeaders,
  JetStreamPublishOptions,
} from 'nats';
import { JobEvent, jobEvent, jobMsgId, LIMITS, limitFromEnv, Names } from '@pdr/contracts';
import { encodeJson } from './codec';

/** Consumer settings; default PDR_JOB_ACK_WAIT_MS / PDR_JOB_MAX_DELIVER, else LIMITS. */
export interface JobStreamSettings {
  ackWaitMs?: number;
  maxDeliver?: number;
  /** Told when the stream or consumer found differs from these settings (default: silent). */
  warn?: (message: string, detail: Record<string, unknown>) => void;
}

/** The job stream's and consumer's settings, declared once: every service creates them from here. */
export function jobStreamConfig(n: Names): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: n.jobStream,
    subjects: [n.jobStreamSubjects],
    // work queue: an event leaves the stream when a runner acks it; no message-count limit (DESIGN: it
    // slows writes); `discard: new` refuses events rather than dropping queued ones
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    storage: StorageType.File,
    duplicate_window: nanos(LIMITS.JOB_DUPLICATE_WINDOW_MS),
  };
}

export function jobConsumerConfig(n: Names, s: JobStreamSettings = {}): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: n.jobConsumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // no `backoff` list: it would replace ack_wait (DESIGN); delays come from nak(delay)
    ack_wait: nanos(s.ackWaitMs ?? limitFromEnv('JOB_ACK_WAIT_MS')),
    max_deliver: s.maxDeliver ?? limitFromEnv('JOB_MAX_DELIVER'),
    max_ack_pending: 10_000,
  };
}

const notFound = (err: unknown) => /not found|10059|10014/i.test(String((err as Error)?.message ?? err));
const alreadyThere = (err: unknown) => /already in use|exists/i.test(String((err as Error)?.message ?? err));

/**
 * Creates (idempotently, whichever service comes first, and again whenever it is gone: deleted, or a
 * nats-server restarted without its store) the work-queue stream of job events and the one durable pull
 * consumer all runners share. A stream of an earlier version (one subject per grid) gets this version's
 * subjects. A stream or consumer whose settings differ from this service's is reported through `warn`:
 * the existing one applies (every service of an installation must see the same PDR_JOB_* values).
 * Returns true when it created the stream (everything that was in it is gone).
 */
export async function ensureJobStream(nc: NatsConnection, n: Names, s: JobStreamSettings = {}): Promise<{ jsm: JetStreamManager; streamCreated: boolean; consumerCreated: boolean }> {
  const jsm = await nc.jetstreamManager();
  const want = jobStreamConfig(n);
  let streamCreated = false;
  try {
    const info = await jsm.streams.info(n.jobStream);
    if (!info.config.subjects?.includes(n.jobStreamSubjects)) {
      await jsm.streams.update(n.jobStream, { ...info.config, subjects: [n.jobStreamSubjects] });
    }
    if (info.config.retention !== want.retention || info.config.discard !== want.discard) {
      s.warn?.('the job stream exists with other settings than this service declares; it is used as it is', {
        stream: n.jobStream,
        retention: info.config.retention,
        discard: info.config.discard,
      });
    }
  } catch (err) {
    if (!notFound(err)) throw err;
    try {
      await jsm.streams.add(want);
      streamCreated = true;
    } catch (e) {
      if (!alreadyThere(e)) throw e; // another service created it in between
    }
  }
  const consumer = jobConsumerConfig(n, s);
  let consumerCreated = false;
  try {
    const info = await jsm.consumers.info(n.jobStream, n.jobConsumer);
    const found = { ackWaitMs: millis(info.config.ack_wait ?? 0), maxDeliver: info.config.max_deliver };
    const mine = { ackWaitMs: millis(consumer.ack_wait!), maxDeliver: consumer.max_deliver };
    if (found.ackWaitMs !== mine.ackWaitMs || found.maxDeliver !== mine.maxDeliver) {
      s.warn?.(
        `the job consumer ${n.jobConsumer} has ack_wait ${found.ackWaitMs} ms / max_deliver ${found.maxDeliver}, this service is configured with ` +
          `${mine.ackWaitMs} ms / ${mine.maxDeliver}: the consumer's values apply (give every service the same PDR_JOB_ACK_WAIT_MS and PDR_JOB_MAX_DELIVER)`,
        { consumer: n.jobConsumer, found, configured: mine },
      );
    }
  } catch (err) {
    if (!notFound(err)) throw err;
    try {
      await jsm.consumers.add(n.jobStream, consumer);
      consumerCreated = true;
    } catch (e) {
      if (!alreadyThere(e)) throw e;
    }
  }
  return { jsm, streamCreated, consumerCreated };
}

/** Publishes at most this many job events before waiting for their acks (pipelining, bounded memory). */
const PUBLISH_WINDOW = 512;

export interface PublishOutcome {
  /** Events now in the stream (new, or a duplicate of one that is verifiably still there). */
  published: number;
  /**
   * Events JetStream acknowledged as duplicates of a message that is no longer in the stream (consumed,
   * purged, or published by another database with the same id): they are NOT in the stream.
   */
  swallowed: JobEvent[];
}

/**
 * The job stream as the planner's dispatch use case sees it: publish events (each with its Nats-Msg-Id,
 * so a retried publish is a no-op, and a duplicate checked rather than trusted), purge a grid's events,
 * list which jobs have an event in the stream.
 */
export class JobStream {
  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
  ) {}

  async publish(events: JobEvent[]): Promise<PublishOutcome> {
    const js = this.nc.jetstream();
    const out: PublishOutcome = { published: 0, swallowed: [] };
    for (let i = 0; i < events.length; i += PUBLISH_WINDOW) {
      const batch = events.slice(i, i + PUBLISH_WINDOW).map((e) => jobEvent.parse(e));
      const acks = await Promise.all(
        batch.map((ev) => {
          const opts: Partial<JetStreamPublishOptions> = { msgID: jobMsgId(ev), headers: natsHeaders() };
          return js.publish(this.n.jobSubject(ev.gridId, ev.jobId), encodeJson(ev), opts);
        }),
      );
      const held = await Promise.all(acks.map((ack, k) => !ack.duplicate || this.holds(ack.seq, batch[k])));
      for (let k = 0; k < acks.length; k++) {
        if (held[k]) out.published++;
        else out.swallowed.push(batch[k]);
      }
    }
    return out;
  }

  /** Whether the stream still holds the message `seq` as this job's event. */
  private async holds(seq: number, ev: JobEvent): Promise<boolean> {
    const jsm = await this.nc.jetstreamManager();
    try {
      const m = await jsm.streams.getMessage(this.n.jobStream, { seq });
      return m.subject === this.n.jobSubject(ev.gridId, ev.jobId);
    } catch (err) {
      if (notFound(err) || /no message/i.test((err as Error).message)) return false;
      throw err;
    }
  }

  /** Removes every event of a grid from the stream (a cancelled grid); returns how many. */
  async purgeGrid(gridId: number): Promise<number> {
    const jsm = await this.nc.jetstreamManager();
    let purged = 0;
    // this version's per-job subjects, and the per-grid subject of earlier versions
    for (const filter of [this.n.gridJobSubjects(gridId), this.n.jobStreamSubjects.replace(/>$/, String(gridId))]) {
      purged += (await jsm.streams.purge(this.n.jobStream, { filter })).purged;
    }
    return purged;
  }

  /** How many messages the stream holds (every job event not yet acked by a runner). */
  async messageCount(): Promise<number> {
    const jsm = await this.nc.jetstreamManager();
    return (await jsm.streams.info(this.n.jobStream)).state.messages;
  }

  /** The ids of the jobs that have at least one event in the stream (per-subject counts, paged by the client). */
  async jobsWithEvents(): Promise<Set<number>> {
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.streams.info(this.n.jobStream, { subjects_filter: this.n.jobStreamSubjects });
    const ids = new Set<number>();
    const prefix = this.n.jobStreamSubjects.replace(/>$/, '');
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const parts = subject.slice(prefix.length).split('.');
      if (parts.length === 2) ids.add(Number(parts[1]));
    }
    return ids;
  }
}
