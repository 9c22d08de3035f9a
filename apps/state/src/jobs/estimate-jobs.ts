import { ESTIMATE, GridEstimate, RpcReply, RpcRequestParsed, runOptions } from '@pdr/contracts';
import { raw } from '@mikro-orm/core';
import { Em, Grid, PdrModelJob } from '@pdr/persistence';

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
  if (ids === null) {
    // per grid an index dive on (grid_id, status): cheap however many jobs are queued
    const rows = await em
      .createQueryBuilder(Grid, 'g')
      .select('g.id')
      .where("exists (select 1 from pdr_model_jobs j where j.grid_id = g.id and j.status in ('pending', 'queued'))")
      .orderBy({ id: 'desc' })
      .limit(ESTIMATE.MAX_GRIDS)
      .execute<{ id: number }[]>('all', false);
    ids = rows.map((r) => r.id);
  }
  if (!ids.length) return { grids: [] };
  const grids = await em.createQueryBuilder(Grid).select(['id', 'run_options', 'onion_species']).where({ id: { $in: ids } }).execute<GridRow[]>('all', false);
  const byGrid = new Map<number, { n: number; longest: number }>();
  for (const g of grids) {
    // the most recently started finished jobs, in the order of the (grid_id, status, time_of_start) index
    const recent = em
      .createQueryBuilder(PdrModelJob)
      .select('execution_ms')
      .where({ grid_id: g.id, status: 'finished', execution_ms: { $ne: null } })
      .orderBy({ time_of_start: 'desc' })
      .limit(ESTIMATE.SAMPLE_JOBS);
    const [m] = await em
      .createQueryBuilder(recent, 'recent')
      .select([raw('COUNT(*) AS n'), raw('MAX(recent.execution_ms) AS longest')])
      .execute<{ n: number | string; longest: number | string | null }[]>('all', false);
    byGrid.set(g.id, { n: Number(m?.n ?? 0), longest: Number(m?.longest ?? 0) });
  }
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
