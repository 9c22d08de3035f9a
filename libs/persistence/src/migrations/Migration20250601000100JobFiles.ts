import { Migration } from '@mikro-orm/migrations';

/**
 * job_files: every file a job stored (role, names, size, mtime, sha256), for `jobs.query --files`
 * and `job.get` (DESIGN "Checksums of outputs recorded per job"). pdr_run's job columns hold only some
 * of the paths and hdf_files only the three HDF files; onion outputs had no record at all (SPEC §5.10).
 * One row per (job, role): the latest finished attempt's files (storage names are fixed per job, so
 * a later attempt overwrites the earlier files).
 */
export class Migration20250601000100JobFiles extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE TABLE job_files (
  id INT NOT NULL AUTO_INCREMENT,
  job_id INT NOT NULL,
  attempt INT NOT NULL,
  role VARCHAR(200) NOT NULL,
  file_name VARCHAR(255) NOT NULL,
  rel_path TEXT NOT NULL,
  full_path TEXT NOT NULL,
  file_size BIGINT NOT NULL,
  modification_time DATETIME(3) NOT NULL,
  sha256_sum CHAR(64) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY job_files_job_role_unique (job_id, role),
  CONSTRAINT job_files_job_id_foreign FOREIGN KEY (job_id) REFERENCES pdr_model_jobs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS job_files');
  }
}
