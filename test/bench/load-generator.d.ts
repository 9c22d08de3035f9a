/** Types of load-generator.js (the runner-protocol load generator shared by `npm run bench` and test/scale). */
export interface VirtualRunnerOptions {
  natsUrl: string;
  ns: string;
  runners: number;
  slots: number;
  /** 'fixed:<ms>', 'uniform:<min>-<max>', 'exp:<mean>', a number of ms or a function of the claimed job. */
  duration?: string | number | ((job: unknown) => number);
  heartbeatMs?: number;
  stepDelayMs?: number;
  requestTimeoutMs?: number;
  retryDelayMs?: number;
  pullExpiresMs?: number;
  label?: string;
  progress?: (line: string) => void;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface Fleet {
  slots: number;
  claims: Map<number, number[]>;
  outcomes: Map<number, Array<{ attempt: number; status: string; applied: boolean }>>;
  counts: Record<
    | 'delivered'
    | 'claimGranted'
    | 'claimRefused'
    | 'claimRetries'
    | 'heartbeats'
    | 'heartbeatRequests'
    | 'heartbeatErrors'
    | 'lost'
    | 'stepRequests'
    | 'stepErrors'
    | 'finishApplied'
    | 'finishNotApplied'
    | 'finishRetries'
    | 'nakked'
    | 'termed'
    | 'pullErrors'
    | 'errorReplies',
    number
  >;
  latency: { claim: number[]; finish: number[]; heartbeat: number[] };
  errors: string[];
  running: number;
  peakRunning: number;
  until(pred: (f: Fleet) => boolean, timeoutMs: number, what?: string): Promise<void>;
  stop(graceMs?: number): Promise<void>;
  natsStats(): { inMsgs: number; outMsgs: number; inBytes: number; outBytes: number };
  latencySummary(kind: 'claim' | 'finish' | 'heartbeat'): LatencySummary;
}

export function startVirtualRunners(o: VirtualRunnerOptions): Promise<Fleet>;
export function durationFrom(spec: VirtualRunnerOptions['duration']): (job?: unknown) => number;
export function percentile(xs: number[], p: number): number;

export interface ConnectionWatch {
  peak: number;
  samples: number;
  last: number;
  now(): Promise<number>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export function watchConnections(db: { host: string; port: number; user: string; password: string; database: string }, everyMs?: number): Promise<ConnectionWatch>;
