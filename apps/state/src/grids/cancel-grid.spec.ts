/** cancelGrid on the real MariaDB (a database of its own): the pending/queued → cancelled CAS in chunks, running jobs flagged. */
import { PdrModelJob } from '@pdr/persistence';
import { useUseCaseDb } from '../../../../test/support/use-case-db';
import { cancelGrid } from './cancel-grid';
import { loadGrid, selectGrid } from './load-grid';

const t = useUseCaseDb();

describe('cancelGrid', () => {
  it('cancels pending and queued points (closing their times), flags running ones, leaves finished ones', async () => {
    const { gridId, jobIds } = await t.grid(6);
    const em = t.em();
    await em.nativeUpdate(PdrModelJob, { id: jobIds[1] }, { status: 'queued' });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[2] }, { status: 'running', active: true, pending: false, time_of_start: new Date() });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[3] }, { status: 'finished', pending: false });
    const res = await cancelGrid(t.em(), { v: 1, selector: { gridId }, kill: true });
    expect(res.reply).toEqual({ gridId, cancelled: 4, runningFlagged: 1 });
    expect(res.changed.sort((a, b) => a - b)).toEqual([jobIds[0], jobIds[1], jobIds[4], jobIds[5]]);
    const rows = await t.jobs(jobIds);
    for (const id of res.changed) {
      const r = rows.get(id)!;
      expect(r).toMatchObject({ status: 'cancelled', pending: 0, active: 0, version: 1, reason: 'cancelled by the user' });
      expect(r.time_of_start).not.toBeNull();
      expect(r.time_of_finish).not.toBeNull();
      expect(Number(r.execution_ms)).toBeGreaterThanOrEqual(0);
      expect(r.execution_time).not.toBeNull();
    }
    expect(rows.get(jobIds[2])).toMatchObject({ status: 'running', cancel_requested: 1, cancel_kill: 1, version: 0 });
    expect(rows.get(jobIds[3])).toMatchObject({ status: 'finished', cancel_requested: 0 });
    const grid = await loadGrid(t.em(), gridId);
    expect(grid).toMatchObject({ id: gridId, modelNameId: expect.any(Number), userId: null, cancelRequested: true, cancelKill: true });
  });

  it('without kill: running jobs are flagged but not killed, and a second cancel finds nothing more to cancel', async () => {
    const { gridId, jobIds } = await t.grid(3, 'running');
    const first = await cancelGrid(t.em(), { v: 1, selector: { gridId }, kill: false });
    expect(first.reply).toEqual({ gridId, cancelled: 0, runningFlagged: 3 });
    const rows = await t.jobs(jobIds);
    for (const id of jobIds) expect(rows.get(id)).toMatchObject({ cancel_requested: 1, cancel_kill: 0 });
    expect(await loadGrid(t.em(), gridId)).toMatchObject({ cancelRequested: true, cancelKill: false });
  });

  it('more than one chunk (2300 points), by model name, each point cancelled once', async () => {
    const { gridId, jobIds } = await t.grid(2300, 'queued');
    const name = (await loadGrid(t.em(), gridId))!.modelName;
    expect((await selectGrid(t.em(), { modelName: name })).id).toBe(gridId);
    const res = await cancelGrid(t.em(), { v: 1, selector: { modelName: name }, kill: false });
    expect(res.reply.cancelled).toBe(2300);
    expect(new Set(res.changed).size).toBe(2300);
    const again = await cancelGrid(t.em(), { v: 1, selector: { gridId }, kill: false });
    expect(again.reply.cancelled).toBe(0);
    const rows = await t.jobs(jobIds);
    expect([...rows.values()].every((r) => r.status === 'cancelled' && r.version === 1)).toBe(true);
  });

  it('an unknown grid is NOT_FOUND', async () => {
    await expect(cancelGrid(t.em(), { v: 1, selector: { gridId: 999_999 }, kill: false })).rejects.toThrow(/grid 999999 does not exist/);
  });
});
