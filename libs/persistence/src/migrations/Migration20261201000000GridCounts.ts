import { Migration } from '@mikro-orm/migrations';
import { gridCountTriggers, GRID_COUNT_TRIGGERS, reseedGridCounts } from '../grid-counts';

/**
 * grid_counts (entities/grid.ts, GridCount): each grid's job counts per status and its membership count,
 * kept by triggers (grid-counts.ts) in the same transaction as the rows they count, so `gridStatus` no
 * longer counts a grid's index entries (456 ms for 10^6 points, docs/benchmarks.md). The table, then the
 * triggers, then the counts of the rows already there (migrations run with the services stopped).
 */
export class Migration20261201000000GridCounts extends Migration {
  override async up(): Promise<void> {
    // IF NOT EXISTS, the key inside, triggers CREATE OR REPLACE, the recount overwriting: a run that stopped
    // half-way (no TRIGGER privilege yet: the table was made, the migration not recorded) runs again whole
    this.addSql(`CREATE TABLE IF NOT EXISTS grid_counts (
  grid_id INT NOT NULL, what VARCHAR(50) NOT NULL, shard INT NOT NULL, n BIGINT NOT NULL DEFAULT 0, first_start DATETIME(3) NULL, last_finish DATETIME(3) NULL,
  PRIMARY KEY (grid_id, what, shard),
  CONSTRAINT grid_counts_grid_id_foreign FOREIGN KEY (grid_id) REFERENCES grids (id) ON UPDATE RESTRICT ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`);
    for (const sql of [...gridCountTriggers(), ...reseedGridCounts()]) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const t of GRID_COUNT_TRIGGERS) this.addSql(`DROP TRIGGER IF EXISTS ${t}`);
    this.addSql('DROP TABLE IF EXISTS grid_counts');
  }
}
