/**
 * The MySQL driver (mysql2) reading a MariaDB schema the way MikroORM's own MariaDB driver does, so
 * that the schema diff (`orm.schema.getUpdateSchemaSQL()`, the migrator) compares like with like:
 *  - MariaDB reports a nullable column without a default as COLUMN_DEFAULT 'NULL' (unquoted) and a
 *    string default already quoted; the MySQL helper would read 'NULL' as the string "NULL";
 *  - MariaDB stores JSON as LONGTEXT with a CHECK (json_valid(`col`)) named after the column: that is
 *    the JSON type, not a LONGTEXT with a check of its own;
 *  - a DOUBLE default comes back in the server's spelling (`1.5e15`, `0.0000000001`): compared as the
 *    number it is, in JavaScript's spelling (which is how MikroORM writes an entity's numeric default).
 * Both are what `@mikro-orm/mariadb`'s MariaDbSchemaHelper (6.6.16) does; that package brings another
 * connector (`mariadb`) the state service does not use, so the two rules are applied here on top of the
 * MySQL helper. On MySQL neither case occurs and nothing changes.
 */
import type { Configuration } from '@mikro-orm/core';
import { MySqlDriver, MySqlSchemaHelper, type AbstractSqlConnection, type AbstractSqlPlatform, type DatabaseSchema, type Transaction } from '@mikro-orm/mysql';

type Table = { table_name: string; schema_name?: string; table_comment?: string };
type Column = { name: string; type: string; mappedType: unknown; length?: number; nullable: boolean; default?: string | null };
type Check = { name: string; columnName?: string; definition: string; expression: string };

export class MariaDbAwareSchemaHelper extends MySqlSchemaHelper {
  override async loadInformationSchema(schema: DatabaseSchema, connection: AbstractSqlConnection, tables: Table[], schemas?: string[], ctx?: Transaction): Promise<void> {
    await super.loadInformationSchema(schema, connection, tables, schemas, ctx);
    for (const t of tables) {
      const table = schema.getTable(t.schema_name ? `${t.schema_name}.${t.table_name}` : t.table_name);
      if (!table) continue;
      for (const col of table.getColumns() as unknown as Column[]) {
        const d = col.default;
        if (typeof d === 'string' && this.platform.isNumericColumn(col.mappedType as never) && /^-?[0-9.]+(e[-+]?\d+)?$/i.test(d)) col.default = String(Number(d));
      }
      const checks = table.getChecks() as Check[];
      for (const check of [...checks]) {
        const m = /^json_valid\(`(.*)`\)$/i.exec(check.expression);
        const col = m ? (table.getColumn(m[1]) as unknown as Column | undefined) : undefined;
        if (!m || !col || check.name !== m[1]) continue;
        col.type = 'json';
        col.mappedType = this.platform.getMappedType('json');
        delete col.length;
        checks.splice(checks.indexOf(check), 1);
      }
    }
  }

  /** MariaDB quotes string defaults itself and says 'NULL' for none (see the file's comment). */
  protected override wrap(val: string | null | undefined, type: Parameters<MySqlSchemaHelper['wrap']>[1]): string | null | undefined {
    if (val === 'NULL') return null;
    if (typeof val === 'string' && val.startsWith("'")) return val;
    return super.wrap(val, type) as string | null | undefined;
  }
}

/** MikroORM's MySQL driver with the MariaDB-aware schema reading above (queries are unchanged). */
export class PdrMySqlDriver extends MySqlDriver {
  constructor(config: Configuration) {
    super(config);
    (this.platform as unknown as { schemaHelper: MySqlSchemaHelper }).schemaHelper = new MariaDbAwareSchemaHelper(this.platform as unknown as AbstractSqlPlatform);
  }
}
