import { Migration } from '@mikro-orm/migrations';

/**
 * `gridStatus` of a 100k-point grid joined 100k grid_points rows to their jobs, one primary-key lookup
 * each (≈ 0.1 s on an idle machine, 0.3–0.7 s on a busy one; docs/benchmarks.md). A covering index
 * (grid_id, status, time_of_start, time_of_finish) lets the usual case — every member job of the grid
 * still belongs to it — be counted from the index alone. It replaces the plain grid_id index (the
 * foreign key on grid_id uses its first column), so jobs still carry the same number of indexes.
 */
export class Migration20261126000000GridStatusIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`ALTER TABLE pdr_model_jobs
  ADD KEY pdr_model_jobs_grid_status_index (grid_id, status, time_of_start, time_of_finish),
  DROP KEY pdr_model_jobs_grid_id_index`);
  }

  override async down(): Promise<void> {
    this.addSql(`ALTER TABLE pdr_model_jobs
  ADD KEY pdr_model_jobs_grid_id_index (grid_id),
  DROP KEY pdr_model_jobs_grid_status_index`);
  }
}
