import type { HealthPingReply } from '@pdr/contracts';
import type { Pilot } from './slurm';
import { slurmDurationSeconds } from './slurm';

/** What the autoscaler sees in one round. */
export interface ScaleInput {
  pilots: Pilot[];
  /** Job events waiting in the consumer (not delivered yet). */
  pending: number;
  /** Job events delivered and not acknowledged yet (running or being claimed). */
  inFlight: number;
  /** Runners answering the health ping (their detail says slots, busy, slurmJobId, claiming). */
  runners: HealthPingReply[];
  slotsPerPilot: number;
  min: number;
  max: number;
  /** A running pilot with less time left than this is about to end: a replacement is due. */
  replaceAheadSeconds: number;
}

export interface ScaleDecision {
  /** Pilots to submit now (before the cool-down check). */
  submit: number;
  desired: number;
  /** Queued pilots plus running ones that still claim jobs and are not about to end. */
  lasting: number;
  /** Slots of runners that are not our pilots (started by hand, pods…). */
  otherSlots: number;
  ending: string[];
}

function detail(r: HealthPingReply): { slots: number; slurmJobId: string | null; claiming: boolean } {
  const d = r.detail as { slots?: unknown; slurmJobId?: unknown; claiming?: unknown };
  return {
    slots: typeof d.slots === 'number' ? d.slots : 0,
    slurmJobId: typeof d.slurmJobId === 'string' ? d.slurmJobId : null,
    claiming: d.claiming !== false,
  };
}

/**
 * How many pilots to add: enough slots for every job waiting or running (beyond what runners that are
 * not our pilots hold), within min and max. A pilot that stopped claiming (its time is up, or drained)
 * or has less than replaceAheadSeconds left does not count: its replacement is submitted while it
 * still finishes its jobs. Pilots are never cancelled here; they leave by themselves when idle.
 */
export function decideScale(i: ScaleInput): ScaleDecision {
  const ours = new Set(i.pilots.map((p) => p.jobId));
  const byJob = new Map<string, ReturnType<typeof detail>>();
  let otherSlots = 0;
  for (const r of i.runners) {
    if (r.service !== 'runner') continue;
    const d = detail(r);
    if (d.slurmJobId && ours.has(d.slurmJobId)) byJob.set(d.slurmJobId, d);
    else if (!d.slurmJobId && d.claiming) otherSlots += d.slots;
  }
  const ending: string[] = [];
  let lasting = 0;
  for (const p of i.pilots) {
    if (p.state === 'PENDING' || p.state === 'CONFIGURING') {
      lasting++;
      continue;
    }
    if (p.state !== 'RUNNING') {
      ending.push(p.jobId);
      continue;
    }
    const left = slurmDurationSeconds(p.timeLeft);
    const d = byJob.get(p.jobId);
    if ((d && !d.claiming) || (left !== null && left < i.replaceAheadSeconds)) ending.push(p.jobId);
    else lasting++;
  }
  const work = i.pending + i.inFlight;
  const needSlots = Math.max(0, work - otherSlots);
  const desired = Math.min(i.max, Math.max(i.min, Math.ceil(needSlots / Math.max(1, i.slotsPerPilot))));
  const submit = Math.max(0, Math.min(desired - lasting, i.max - lasting));
  return { submit, desired, lasting, otherSlots, ending };
}
