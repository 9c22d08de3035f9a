/** markQueued on the real MariaDB (a database of its own): the pending → queued CAS, in batches, and its races. */
import { useUseCaseDb } from '../../../../test/support/use-case-db';
import { markQueued, pendingToQueued } from './mark-queued';

const t = useUseCaseDb();

describe('markQueued', () => {
  it('moves exactly the pending jobs to queued, flags and version in step, queued_at set; others untouched', async () => {
    const { jobIds } = await t.grid(5);
    const { jobIds: running } = await t.grid(2, 'running');
    const res = await markQueued(t.em(), { v: 1, jobIds: [...jobIds, ...jobIds.slice(0, 2), ...running] });
    expect(res.reply.updated).toBe(5);
    expect(res.changed).toEqual(jobIds);
    const rows = await t.jobs([...jobIds, ...running]);
    for (const id of jobIds) expect(rows.get(id)).toMatchObject({ status: 'queued', pending: 1, active: 0, version: 1 });
    for (const id of jobIds) expect(rows.get(id)!.queued_at).not.toBeNull();
    for (const id of running) expect(rows.get(id)).toMatchObject({ status: 'running', version: 0, queued_at: null });
  });

  it('a second call changes nothing (the compare-and-set lost: not pending any more)', async () => {
    const { jobIds } = await t.grid(3);
    await markQueued(t.em(), { v: 1, jobIds });
    const again = await markQueued(t.em(), { v: 1, jobIds });
    expect(again).toEqual({ reply: { updated: 0 }, changed: [] });
    const rows = await t.jobs(jobIds);
    for (const id of jobIds) expect(rows.get(id)).toMatchObject({ status: 'queued', version: 1 });
  });

  it('batches of more than one chunk (2500 jobs) in one call', async () => {
    const { jobIds } = await t.grid(2500);
    const res = await markQueued(t.em(), { v: 1, jobIds });
    expect(res.reply.updated).toBe(2500);
    const rows = await t.jobs(jobIds);
    expect([...rows.values()].every((r) => r.status === 'queued')).toBe(true);
  });

  it('two concurrent callers for the same jobs: each job changes once', async () => {
    const { jobIds } = await t.grid(200);
    const [a, b] = await Promise.all([markQueued(t.em(), { v: 1, jobIds }), markQueued(t.em(), { v: 1, jobIds: [...jobIds].reverse() })]);
    expect(a.reply.updated + b.reply.updated).toBe(200);
    expect(new Set([...a.changed, ...b.changed]).size).toBe(200);
    const rows = await t.jobs(jobIds);
    expect([...rows.values()].every((r) => r.version === 1)).toBe(true);
  });

  it('pendingToQueued of no ids does nothing', async () => {
    expect(await pendingToQueued(t.em(), [])).toEqual([]);
  });
});
