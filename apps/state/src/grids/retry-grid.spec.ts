/** retryGrid on the real MariaDB (a database of its own): failed/problem (+ cancelled) → pending, generation + 1 (repend's CAS). */
import { PdrModelJob } from '@pdr/persistence';
import { useUseCaseDb } from '../../../../test/support/use-case-db';
import { cancelGrid } from './cancel-grid';
import { loadGrid } from './load-grid';
import { retryGrid } from './retry-grid';

const t = useUseCaseDb();

describe('retryGrid', () => {
  it('failed and problem points go back to pending with a new generation, flags and reason cleared; others stay', async () => {
    const { gridId, jobIds } = await t.grid(5);
    const em = t.em();
    await em.nativeUpdate(PdrModelJob, { id: jobIds[0] }, { status: 'failed', pending: false, reason: 'storage', heartbeat_at: new Date(), cancel_requested: true });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[1] }, { status: 'problem', pending: false, reason: 'exit 1' });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[2] }, { status: 'finished', pending: false });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[3] }, { status: 'cancelled', pending: false });
    const res = await retryGrid(t.em(), { v: 1, selector: { gridId }, includeCancelled: false });
    expect(res.reply).toEqual({ gridId, jobs: [[jobIds[0], 1], [jobIds[1], 1]] });
    expect(res.changed).toEqual([jobIds[0], jobIds[1]]);
    const rows = await t.jobs(jobIds);
    for (const id of res.changed) {
      expect(rows.get(id)).toMatchObject({ status: 'pending', pending: 1, active: 0, generation: 1, version: 1, reason: null, cancel_requested: 0, cancel_kill: 0, heartbeat_at: null, queued_at: null, grid_id: gridId });
    }
    expect(rows.get(jobIds[2])).toMatchObject({ status: 'finished', generation: 0 });
    expect(rows.get(jobIds[3])).toMatchObject({ status: 'cancelled', generation: 0 });
    // a second retry finds nothing (the compare-and-set on the status lost)
    expect((await retryGrid(t.em(), { v: 1, selector: { gridId }, includeCancelled: false })).reply.jobs).toEqual([]);
  });

  it('includeCancelled: cancelled points too, across more than one chunk, and the grid is no longer cancelled', async () => {
    const { gridId, jobIds } = await t.grid(1500);
    await cancelGrid(t.em(), { v: 1, selector: { gridId }, kill: true });
    expect(await loadGrid(t.em(), gridId)).toMatchObject({ cancelRequested: true, cancelKill: true });
    const res = await retryGrid(t.em(), { v: 1, selector: { gridId }, includeCancelled: true });
    expect(res.reply.jobs).toHaveLength(1500);
    expect(res.reply.jobs.every(([, g]) => g === 1)).toBe(true);
    expect(await loadGrid(t.em(), gridId)).toMatchObject({ cancelRequested: false, cancelKill: false });
    const rows = await t.jobs(jobIds);
    expect([...rows.values()].every((r) => r.status === 'pending' && r.generation === 1 && r.version === 2)).toBe(true);
  });
});
