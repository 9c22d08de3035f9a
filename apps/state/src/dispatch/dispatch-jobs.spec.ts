/** The dispatch sweep's use cases on the real MariaDB (a database of its own): SKIP LOCKED takes, the redispatch CAS, counts. */
import { raw } from '@mikro-orm/core';
import { PdrModelJob } from '@pdr/persistence';
import { useUseCaseDb } from '../../../../test/support/use-case-db';
import { outstandingJobs, redispatch, takeStalePending } from './dispatch-jobs';

const t = useUseCaseDb();

const age = (ids: number[], sql: string) => t.em().nativeUpdate(PdrModelJob, { id: { $in: ids } }, { time_updated: raw(sql), time_created: raw(sql) });

describe('takeStalePending', () => {
  it('takes pending jobs untouched for olderThanMs, touches them, and two concurrent sweeps never take the same job', async () => {
    const { gridId, jobIds } = await t.grid(40);
    await age(jobIds.slice(0, 30), 'NOW(3) - INTERVAL 1 HOUR');
    const [a, b] = await Promise.all([
      takeStalePending(t.em(), { v: 1, olderThanMs: 60_000, limit: 20 }, 'inst'),
      takeStalePending(t.em(), { v: 1, olderThanMs: 60_000, limit: 20 }, 'inst'),
    ]);
    const taken = [...a.jobs, ...b.jobs].map(([id]) => id);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.every((id) => jobIds.slice(0, 30).includes(id))).toBe(true);
    expect(a.installationId).toBe('inst');
    for (const [, g, gen] of [...a.jobs, ...b.jobs]) expect([g, gen]).toEqual([gridId, 0]);
    // the rest of the stale ones, then nothing (the taken ones were touched)
    const c = await takeStalePending(t.em(), { v: 1, olderThanMs: 60_000, limit: 100 }, 'inst');
    expect(new Set([...taken, ...c.jobs.map(([id]) => id)])).toEqual(new Set(jobIds.slice(0, 30)));
    expect((await takeStalePending(t.em(), { v: 1, olderThanMs: 60_000, limit: 100 }, 'inst')).jobs).toEqual([]);
  });
});

describe('redispatch', () => {
  it('pending and long-queued jobs → pending, generation + 1; freshly queued, running and cancel-requested ones stay', async () => {
    const { gridId, jobIds } = await t.grid(5);
    const em = t.em();
    await em.nativeUpdate(PdrModelJob, { id: jobIds[1] }, { status: 'queued', queued_at: raw('NOW(3) - INTERVAL 1 HOUR') });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[2] }, { status: 'queued', queued_at: raw('NOW(3) + INTERVAL 1 HOUR') });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[3] }, { status: 'running' });
    await em.nativeUpdate(PdrModelJob, { id: jobIds[4] }, { cancel_requested: true });
    const queuedBefore = new Date().toISOString();
    const res = await redispatch(t.em(), { v: 1, jobIds: [...jobIds, jobIds[0]], queuedBefore, reason: 'lost' }, 'inst');
    expect(res.reply).toEqual({ installationId: 'inst', jobs: [[jobIds[0], gridId, 1], [jobIds[1], gridId, 1]] });
    expect(res.changed).toEqual([jobIds[0], jobIds[1]]);
    const rows = await t.jobs(jobIds);
    for (const id of res.changed) expect(rows.get(id)).toMatchObject({ status: 'pending', pending: 1, active: 0, generation: 1, version: 1, queued_at: null, reason: 'event published again: lost' });
    expect(rows.get(jobIds[2])).toMatchObject({ status: 'queued', generation: 0 });
    expect(rows.get(jobIds[3])).toMatchObject({ status: 'running', generation: 0 });
    expect(rows.get(jobIds[4])).toMatchObject({ status: 'pending', generation: 0 });
    // without queuedBefore every queued job counts as lost
    const all = await redispatch(t.em(), { v: 1, jobIds: [jobIds[2]], reason: 'purged' }, 'inst');
    expect(all.reply.jobs).toEqual([[jobIds[2], gridId, 1]]);
  });
});

describe('outstandingJobs', () => {
  it('counts queued and running jobs and pages the queued ones', async () => {
    const { gridId, jobIds } = await t.grid(4, 'queued');
    const before = await outstandingJobs(t.em(), { v: 1, limit: 0, afterId: 0 }, 'inst');
    await t.em().nativeUpdate(PdrModelJob, { id: jobIds[0] }, { status: 'running' });
    const r = await outstandingJobs(t.em(), { v: 1, limit: 2, afterId: jobIds[0] }, 'inst');
    expect(r.queued).toBe(before.queued - 1);
    expect(r.running).toBe(before.running + 1);
    expect(r.jobs.map(([id, g, gen]) => [id, g, gen])).toEqual([
      [jobIds[1], gridId, 0],
      [jobIds[2], gridId, 0],
    ]);
    expect(Date.parse(r.now)).toBeGreaterThan(0);
  });
});
