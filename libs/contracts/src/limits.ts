/**
 * Timeouts and limits shared by services, each with its reason. Services may override some through
 * environment variables (named beside them) but the defaults are chosen to hold together:
 * HEARTBEAT_INTERVAL < JOB_ACK_WAIT / 3 and STALE_HEARTBEAT > 3 × HEARTBEAT_INTERVAL.
 */
export const LIMITS = {
  /** JetStream ack_wait of the job consumer: a runner that dies is noticed after this; runners send
   * "working" (in-progress) acks every HEARTBEAT_INTERVAL_MS, so long jobs are never redelivered. */
  JOB_ACK_WAIT_MS: 60_000,
  /** How often a runner tells JetStream and state that a job is alive: well inside ack_wait. */
  HEARTBEAT_INTERVAL_MS: 10_000,
  /** A running job whose last heartbeat is older than this is reclaimable (runner presumed dead). */
  STALE_HEARTBEAT_MS: 45_000,
  /** Deliveries of one job event before it is recorded failed (every delivery is a claim attempt). */
  JOB_MAX_DELIVER: 5,
  /** Delay before a job event whose handling failed transiently (state/storage down) is redelivered. */
  TRANSIENT_RETRY_DELAY_MS: 5_000,
  /** Window in which JetStream deduplicates job events by Nats-Msg-Id (a retried publish). */
  JOB_DUPLICATE_WINDOW_MS: 10 * 60_000,
  /** Default wait for a request/reply answer; queries of large grids are answered well within it. */
  REQUEST_TIMEOUT_MS: 15_000,
  /** Planning a batch of 10k points (rows + reply) can take a few seconds on a busy machine. */
  BATCH_REQUEST_TIMEOUT_MS: 120_000,
  /** Bytes a single request may carry; NATS' default max_payload is 1 MiB. */
  MAX_PAYLOAD_BYTES: 1024 * 1024,
  /** Points per state.points.upsert request sent by the planner: ~40 bytes each, far below max_payload. */
  PLANNER_BATCH_POINTS: 5_000,
  /** How often the reconciler in state looks for stuck jobs. */
  RECONCILE_INTERVAL_MS: 30_000,
  /**
   * A pending job untouched for this long was left by a planner that died between persisting and
   * publishing: the planner's dispatch sweep publishes it. Longer than one planning batch takes.
   */
  STALE_PENDING_MS: 60_000,
  /**
   * How often each planner's dispatch sweep compares the stream with the database: makes sure the stream
   * and consumer exist, publishes stale pending jobs, and publishes again queued jobs whose event the
   * stream lost (restarted empty, purged, deleted). Bounds the time to recover from a lost stream.
   */
  DISPATCH_SWEEP_INTERVAL_MS: 15_000,
  /**
   * A runner sends an attempt's steps to state once they have waited this long (batched); steps still
   * waiting when the attempt ends go with its outcome. A long run shows its current step after this
   * delay; a quick one costs two requests (claim, finish) instead of one more per step.
   */
  STEP_REPORT_DELAY_MS: 2_000,
  /**
   * Longest a storage call (store, retrieve, stat, list, a connection) may take before it counts as a
   * transient failure, plus STORAGE_MIN_BYTES_PER_S for the bytes it moves: a hung NFS mount or SSH
   * server must not hold a runner's slot (and its heartbeats) forever.
   */
  STORAGE_CALL_TIMEOUT_MS: 120_000,
  /** Slowest transfer rate still taken as progress (1 MiB/s): a 1 GB HDF file gets 120 s + 1000 s. */
  STORAGE_MIN_BYTES_PER_S: 1024 * 1024,
  /** Connecting and authenticating to an SFTP server (TCP + SSH handshake); then it counts as down. */
  STORAGE_CONNECT_TIMEOUT_MS: 15_000,
  /**
   * Transfers at once over one runner's SFTP connection (all its slots share it): enough to hide the
   * round trips of small files, few enough that a runner does not flood a shared server. A small file
   * (≤ 1 MiB, sent from memory in one burst) counts as a quarter of a transfer: 32 of them at once. Small
   * files are read before their turn, so a job storing many holds up to 4 × this many MiB in memory.
   */
  STORAGE_PARALLEL_TRANSFERS: 8,
  /**
   * A claim that waited this long in the state service's line (admission control: finishes, heartbeats and
   * releases go first) is refused as UNAVAILABLE instead of run; the runner keeps its event and asks again
   * after ½–1½ × TRANSIENT_RETRY_DELAY_MS (spread, so the slots refused together come back apart). Well
   * under REQUEST_TIMEOUT_MS, so the refusal reaches a runner that still waits: a claim that ran after its
   * runner gave up left the job running for nobody.
   */
  CLAIM_MAX_QUEUE_MS: 5_000,
  /** Health ping replies are collected for this long. */
  HEALTH_COLLECT_MS: 1_000,
  /** Default limit of one executable run of PDR: a real KOSMA-tau model takes minutes to hours; this leaves room for slow ones. */
  PDR_TIMEOUT_MS: 12 * 3600_000,
  /** Default limit of one onion run (per species): far shorter than a PDR model. */
  ONION_TIMEOUT_MS: 2 * 3600_000,
  /**
   * Default largest grid a submission may have (the user raises it per grid): a typo in an axis can
   * multiply a grid by 100, and 10^5 points are days of a cluster's time.
   */
  MAX_GRID_POINTS: 100_000,
} as const;

export function limitFromEnv(name: keyof typeof LIMITS, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[`PDR_${name}`];
  if (raw === undefined || raw === '') return LIMITS[name];
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || !Number.isInteger(n)) throw new Error(`PDR_${name}="${raw}" must be a positive integer`);
  return n;
}
