import { z } from 'zod';
import { id, schemaVersion } from './common';

/**
 * How long a job of a grid is expected to take, for runners that know when their allocation ends
 * (Slurm pilots): they never claim a job they cannot finish in the time left.
 */
export const ESTIMATE = {
  /** Finished jobs of a grid needed before their measured durations replace the timeouts as the estimate. */
  MIN_MEASURED_JOBS: 3,
  /** The longest measured job × this: models of one grid differ, and a job run late must still fit. */
  MEASURED_MARGIN: 1.25,
  /** Finished jobs looked at per grid, the most recently started: a bounded read on 10^5-point grids
   * (every runner asks every few seconds), and recent durations reflect the machines as they are now. */
  SAMPLE_JOBS: 200,
  /** Grids one request may ask about (one runner meets few grids at once). */
  MAX_GRIDS: 1000,
} as const;

/**
 * state.jobs.estimate: the expected duration of a job of each grid — `measured` (the longest of the last
 * SAMPLE_JOBS finished jobs × MEASURED_MARGIN, once MIN_MEASURED_JOBS have finished) or `timeouts` (PDR timeout + onion
 * timeout per species: the longest a job can run). gridIds null: every grid with pending or queued jobs.
 */
export const jobsEstimateRequest = z.object({
  v: schemaVersion,
  gridIds: z.array(id).max(ESTIMATE.MAX_GRIDS).nullable().describe('null: every grid with pending or queued jobs'),
});
export const gridEstimate = z.object({
  gridId: id,
  expectedMs: z.number().int().nonnegative(),
  basis: z.enum(['measured', 'timeouts']),
  finished: z.number().int().nonnegative().describe('finished jobs with a measured duration'),
});
export type GridEstimate = z.infer<typeof gridEstimate>;
export const jobsEstimateReply = z.object({ grids: z.array(gridEstimate) });
