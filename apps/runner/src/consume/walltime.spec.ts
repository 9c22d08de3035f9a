import pino from 'pino';
import type { GridEstimate } from '@pdr/contracts';
import { parseSlurmTime, WalltimeGuard } from './walltime';
import { RUNNER_LIMITS } from './limits';

const est = (gridId: number, expectedMs: number): GridEstimate => ({ gridId, expectedMs, basis: 'timeouts', finished: 0 });

function guard(endsInMs: number | null, grids: GridEstimate[]) {
  const now = 1_000_000;
  const calls: Array<number[] | undefined> = [];
  const g = new WalltimeGuard({
    endsAt: endsInMs === null ? null : now + endsInMs,
    estimate: async (ids) => {
      calls.push(ids);
      return ids ? grids.filter((e) => ids.includes(e.gridId)) : grids;
    },
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
  return { g, calls };
}

describe('WalltimeGuard', () => {
  const margin = RUNNER_LIMITS.WALLTIME_MARGIN_MS;

  it('pulls and claims anything without an allocation end, and asks state nothing', async () => {
    const { g, calls } = guard(null, [est(1, 10 ** 9)]);
    expect(await g.mayPull()).toBe(true);
    expect(await g.mayClaim(1)).toBe(true);
    expect(calls).toEqual([]);
  });

  it('stops pulling when the longest waiting job does not fit in the time left', async () => {
    expect(await guard(margin + 60_000, [est(1, 30_000), est(2, 59_000)]).g.mayPull()).toBe(true);
    expect(await guard(margin + 60_000, [est(1, 30_000), est(2, 61_000)]).g.mayPull()).toBe(false);
  });

  it('refuses to claim a job of a grid that does not fit, asking for that grid', async () => {
    const { g, calls } = guard(margin + 60_000, [est(7, 90_000)]);
    expect(await g.mayClaim(7)).toBe(false);
    expect(calls).toEqual([[7]]);
  });

  it('claims nothing once draining (Slurm warning signal)', async () => {
    const { g } = guard(null, []);
    g.draining = true;
    expect(await g.mayPull()).toBe(false);
    expect(await g.mayClaim(1)).toBe(false);
  });

  it('reads squeue end times and refuses the ones without an end', () => {
    expect(parseSlurmTime('2026-11-30T17:46:49')).toBe(new Date(2026, 10, 30, 17, 46, 49).getTime());
    for (const s of ['N/A', 'NONE', 'Unknown', '']) expect(parseSlurmTime(s)).toBeNull();
  });
});
