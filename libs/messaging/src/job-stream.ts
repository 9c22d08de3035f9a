import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamManager,
  NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
  headers as natsHeaders,
  JetStreamPublishOptions,
} from 'nats';
import { JobEvent, jobEvent, jobMsgId, LIMITS, limitFromEnv, Names } from '@pdr/contracts';
import { encodeJson } from './codec';

/** Consumer settings; default PDR_JOB_ACK_WAIT_MS / PDR_JOB_MAX_DELIVER, else LIMITS. The first service
 * to start creates the consumer, so every service of one installation must see the same values. */
export interface JobStreamSettings {
  ackWaitMs?: number;
  maxDeliver?: number;
}

/**
 * Creates (idempotently, whichever service starts first) the work-queue stream of job events and the one
 * durable pull consumer all runners share. No message-count limit on the stream (DESIGN: it slows writes);
 * `discard: new` refuses events rather than dropping queued ones. No consumer `backoff` list (it would
 * replace ack_wait); delays come from nak(delay).
 */
export async function ensureJobStream(nc: NatsConnection, n: Names, s: JobStreamSettings = {}): Promise<JetStreamManager> {
  const jsm = await nc.jetstreamManager();
  const streamConfig = {
    name: n.jobStream,
    subjects: [n.jobSubject('*')],
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    storage: StorageType.File,
    duplicate_window: nanos(LIMITS.JOB_DUPLICATE_WINDOW_MS),
  };
  try {
    await jsm.streams.info(n.jobStream);
  } catch {
    try {
      await jsm.streams.add(streamConfig);
    } catch (err) {
      // another service created it in between
      if (!/already in use|exists/i.test((err as Error).message)) throw err;
    }
  }
  const consumerConfig = {
    durable_name: n.jobConsumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(s.ackWaitMs ?? limitFromEnv('JOB_ACK_WAIT_MS')),
    max_deliver: s.maxDeliver ?? limitFromEnv('JOB_MAX_DELIVER'),
    max_ack_pending: 10_000,
  };
  try {
    await jsm.consumers.info(n.jobStream, n.jobConsumer);
  } catch {
    try {
      await jsm.consumers.add(n.jobStream, consumerConfig);
    } catch (err) {
      if (!/already in use|exists/i.test((err as Error).message)) throw err;
    }
  }
  return jsm;
}

/** Publishes at most this many job events before waiting for their acks (pipelining, bounded memory). */
const PUBLISH_WINDOW = 512;

/** Publishes job events to the stream, pipelined, each with Nats-Msg-Id so a retried publish is a no-op. */
export class JobPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
  ) {}

  async publish(events: JobEvent[]): Promise<{ published: number; duplicates: number }> {
    const js = this.nc.jetstream();
    let duplicates = 0;
    let published = 0;
    for (let i = 0; i < events.length; i += PUBLISH_WINDOW) {
      const window = events.slice(i, i + PUBLISH_WINDOW).map((e) => {
        const ev = jobEvent.parse(e);
        const opts: Partial<JetStreamPublishOptions> = { msgID: jobMsgId(ev.jobId, ev.generation), headers: natsHeaders() };
        return js.publish(this.n.jobSubject(ev.gridId), encodeJson(ev), opts);
      });
      for (const ack of await Promise.all(window)) {
        if (ack.duplicate) duplicates++;
        else published++;
      }
    }
    return { published, duplicates };
  }
}
