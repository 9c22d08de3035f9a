import { MEMBER_COUNT } from '@pdr/persistence';

/**
 * grid_counts (kept by the triggers of Migration20261201000000GridCounts) against a recount of the
 * tables they count: the rows where they differ, [] when the triggers kept up. `db` qualifies the
 * tables (`pdr_test_x.`) for a connection that has no default database.
 */
export function gridCountsDriftSql(db = ''): string {
  return `SELECT grid_id, what, SUM(kept) AS kept, SUM(counted) AS counted FROM (
      SELECT grid_id, what, n AS kept, 0 AS counted FROM ${db}grid_counts
      UNION ALL SELECT grid_id, COALESCE(status, ''), 0, 1 FROM ${db}pdr_model_jobs WHERE grid_id IS NOT NULL
      UNION ALL SELECT grid_id, '${MEMBER_COUNT}', 0, 1 FROM ${db}grid_points
    ) t GROUP BY grid_id, what HAVING SUM(kept) <> SUM(counted) ORDER BY grid_id, what`;
}

export type Drift = { grid_id: number; what: string; kept: number; counted: number };

export async function gridCountsDrift(query: (sql: string) => Promise<Record<string, unknown>[]>, db = ''): Promise<Drift[]> {
  return (await query(gridCountsDriftSql(db))).map((r) => ({ grid_id: Number(r.grid_id), what: String(r.what), kept: Number(r.kept), counted: Number(r.counted) }));
}
