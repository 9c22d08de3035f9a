import { Migration } from '@mikro-orm/migrations';

/**
 * installation: one row with a UUID made by this database (UUID()), so job events carry an identity
 * unique per database. A new database, a recreated one or a second one behind the same NATS namespace
 * gets its own; job ids alone repeat, and JetStream dropped the repeated ids as duplicates.
 */
export class Migration20261130000000Installation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE TABLE installation (
  id INT NOT NULL,
  uuid CHAR(36) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    this.addSql(`INSERT INTO installation (id, uuid) VALUES (1, UUID())`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS installation');
  }
}
