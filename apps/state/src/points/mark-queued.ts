import { LockMode } from '@mikro-orm/core';
import { RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { bumpVersion, chunk, dbNow, Em, PdrModelJob, statusFields, transaction } from '@pdr/persistence';

const CHUNK = 1000;

/**
 * Use case "mark queued": pending → queued once the planner has the job events in the stream.
 * Per chunk: lock the pending rows, update exactly those (so the changed ids are known for the
 * progress events). Jobs in any other status are left alone.
 */
export async function markQueued(em: Em, req: RpcRequestParsed<'markQueued'>): Promise<{ reply: RpcReply<'markQueued'>; changed: number[] }> {
  const changed: number[] = [];
  for (const ids of chunk([...new Set(req.jobIds)].sort((a, b) => a - b), CHUNK)) {
    changed.push(...(await transaction(em, (tem) => pendingToQueued(tem, ids))));
  }
  return { reply: { updated: changed.length }, changed };
}

/** pending → queued for those of `ids` that are pending; returns them. Runs in its own transaction. */
export async function pendingToQueued(em: Em, ids: number[]): Promise<number[]> {
  if (!ids.length) return [];
  const rows = await em
    .createQueryBuilder(PdrModelJob)
    .select('id')
    .where({ id: { $in: ids }, status: 'pending' })
    .orderBy({ id: 'asc' })
    .setLockMode(LockMode.PESSIMISTIC_WRITE)
    .execute<{ id: number }[]>('all', false);
  const locked = rows.map((r) => r.id);
  if (!locked.length) return [];
  await em.nativeUpdate(PdrModelJob, { id: { $in: locked } }, { ...statusFields('queued'), ...bumpVersion(), queued_at: dbNow() });
  return locked;
}
