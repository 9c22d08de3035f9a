import { ESTIMATE, GridEstimate, RpcReply, RpcRequestParsed, runOptions } from '@pdr/contracts';
import { all, Em, inList } from '@pdr/persistence';

interface GridRow {
  id: number;
  run_options: unknown;
  onion_species: string;
}

/**
 * Use case "how long does a job of this grid take": the longest measured duration of its finished jobs
 * (with a margin) once enough have finished, else the longest a job may run (PDR timeout + one onion
 * timeout per species). Without grid ids: the grids that have pending or queued jobs.
 */
export async function estimateJobs(em: Em, req: RpcRequestParsed<'jobsEstimate'>): Promise<RpcReply<'jobsEstimate'>> {
  let ids = req.gridIds;
  if (!ids) {
    const rows = await all<{ grid_id: number }>(
      em,
      `SELECT DISTINCT grid_id FROM pdr_model_jobs WHERE status IN ('pending', 'queued') AND grid_id IS NOT NULL LIMIT ${ESTIMATE.MAX_GRIDS}`,
    );
    ids = rows.map((r) => r.grid_id);
  }
  if (!ids.length) return { grids: [] };
  const grids = await all<GridRow>(em, `SELECT id, run_options, onion_species FROM grids WHERE id IN (${inList(ids.length)})`, ids);
  const measured = await all<{ grid_id: number; n: number | string; longest: number | string | null }>(
    em,
    `SELECT grid_id, COUNT(*) AS n, MAX(execution_ms) AS longest FROM pdr_model_jobs
     WHERE grid_id IN (${inList(ids.length)}) AND status = 'finished' AND execution_ms IS NOT NULL GROUP BY grid_id`,
    ids,
  );
  const byGrid = new Map(measured.map((m) => [m.grid_id, { n: Number(m.n), longest: Number(m.longest ?? 0) }]));
  return {
    grids: grids.map((g): GridEstimate => {
      const m = byGrid.get(g.id) ?? { n: 0, longest: 0 };
      if (m.n >= ESTIMATE.MIN_MEASURED_JOBS) {
        return { gridId: g.id, expectedMs: Math.ceil(m.longest * ESTIMATE.MEASURED_MARGIN), basis: 'measured', finished: m.n };
      }
      const run = runOptions.shape.timeouts.parse((typeof g.run_options === 'string' ? JSON.parse(g.run_options) : g.run_options as { timeouts: unknown }).timeouts);
      const species = g.onion_species.split(/\s+/).filter(Boolean).length;
      return { gridId: g.id, expectedMs: run.pdrMs + run.onionMs * Math.max(1, species), basis: 'timeouts', finished: m.n };
    }),
  };
}
