import type { HealthPingReply } from '@pdr/contracts';
import { decideScale, type ScaleInput } from './scale';
import type { Pilot } from './slurm';

const pilot = (jobId: string, state = 'RUNNING', timeLeft = '1:00:00'): Pilot => ({ jobId, state, node: 'n1', timeLeft, endTime: 'N/A', cpus: 2 });
const runner = (slurmJobId: string | null, over: Record<string, unknown> = {}): HealthPingReply => ({
  service: 'runner',
  instanceId: `r-${slurmJobId}`,
  version: '0.1.0',
  startedAt: new Date().toISOString(),
  detail: { slots: 2, busy: 0, slurmJobId, claiming: true, ...over },
});
const base = (over: Partial<ScaleInput>): ScaleInput => ({ pilots: [], pending: 0, inFlight: 0, runners: [], slotsPerPilot: 2, min: 0, max: 4, replaceAheadSeconds: 300, ...over });

describe('decideScale', () => {
  it('asks for enough pilots for the jobs waiting and running, within max', () => {
    expect(decideScale(base({ pending: 5 }))).toMatchObject({ desired: 3, submit: 3 });
    expect(decideScale(base({ pending: 50 }))).toMatchObject({ desired: 4, submit: 4 });
    expect(decideScale(base({ pending: 3, inFlight: 2, pilots: [pilot('1')], runners: [runner('1', { busy: 2 })] }))).toMatchObject({ desired: 3, lasting: 1, submit: 2 });
  });

  it('keeps min pilots with an empty queue and never cancels any', () => {
    expect(decideScale(base({ min: 1 }))).toMatchObject({ desired: 1, submit: 1 });
    expect(decideScale(base({ pilots: [pilot('1'), pilot('2')] }))).toMatchObject({ desired: 0, submit: 0 });
  });

  it('counts queued pilots as coming capacity', () => {
    expect(decideScale(base({ pending: 4, pilots: [pilot('1', 'PENDING'), pilot('2', 'PENDING')] }))).toMatchObject({ submit: 0, lasting: 2 });
  });

  it('replaces pilots that stopped claiming or are about to end, before they are gone', () => {
    const d = decideScale(base({ pending: 2, inFlight: 2, pilots: [pilot('1', 'RUNNING', '4:00'), pilot('2')], runners: [runner('1'), runner('2', { claiming: false })] }));
    expect(d).toMatchObject({ lasting: 0, ending: ['1', '2'], desired: 2, submit: 2 });
  });

  it('leaves to runners that are not pilots what their slots can hold', () => {
    expect(decideScale(base({ pending: 3, runners: [runner(null, { slots: 4 })] }))).toMatchObject({ otherSlots: 4, desired: 0, submit: 0 });
    expect(decideScale(base({ pending: 7, runners: [runner(null, { slots: 4 })] }))).toMatchObject({ desired: 2, submit: 2 });
  });
});
