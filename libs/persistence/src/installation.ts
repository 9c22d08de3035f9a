import { Installation } from './entities';
import type { Em } from './orm';

/** This database's installation id (the UUID its migration wrote): part of every job event's identity. */
export async function readInstallationId(em: Em): Promise<string> {
  const row = await em.fork().findOne(Installation, { id: 1 });
  if (!row) throw new Error('the installation table has no row: the database was not migrated by this version');
  return row.uuid;
}
