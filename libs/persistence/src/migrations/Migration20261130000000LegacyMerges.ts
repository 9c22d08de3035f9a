import { Migration } from '@mikro-orm/migrations';

/**
 * legacy_merges: the rows `pdr db upgrade` / `pdr db import` merged into another row of the same
 * natural identity (pdr_run made duplicates: a job row per run of the same grid, issue 14). Nothing
 * is silently dropped: each merged row is kept here as JSON with the id of the row that survived
 * and now carries its references. IF NOT EXISTS: the upgrade of a pdr_run database creates it before
 * this migration is recorded (legacy/upgrade.ts runs this same statement).
 */
export const LEGACY_MERGES_DDL = `CREATE TABLE IF NOT EXISTS legacy_merges (
  id INT NOT NULL AUTO_INCREMENT,
  table_name VARCHAR(64) NOT NULL,
  merged_id INT NOT NULL,
  survivor_id INT NOT NULL,
  merged_row JSON NOT NULL,
  source VARCHAR(200) NOT NULL,
  merged_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY legacy_merges_row_unique (source, table_name, merged_id),
  KEY legacy_merges_survivor_index (table_name, survivor_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/**
 * legacy_import_rows: every row `pdr db import` took from a pdr_run SQLite file (source = the file's
 * sha256) and the row it became (inserted, or merged into an existing one): the id map between
 * batches and what makes a second import of the same file change nothing.
 */
export const LEGACY_IMPORT_ROWS_DDL = `CREATE TABLE IF NOT EXISTS legacy_import_rows (
  source CHAR(64) NOT NULL,
  table_name VARCHAR(64) NOT NULL,
  legacy_id INT NOT NULL,
  row_id INT NOT NULL,
  merged TINYINT(1) NOT NULL,
  imported_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (source, table_name, legacy_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

export class Migration20261130000000LegacyMerges extends Migration {
  override async up(): Promise<void> {
    this.addSql(LEGACY_MERGES_DDL);
    this.addSql(LEGACY_IMPORT_ROWS_DDL);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS legacy_import_rows');
    this.addSql('DROP TABLE IF EXISTS legacy_merges');
  }
}
