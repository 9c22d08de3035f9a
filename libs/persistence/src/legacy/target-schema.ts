/**
 * The schema `pdr db upgrade` brings a pdr_run database to: the one the entities describe
 * (libs/persistence/src/entities), read from their metadata through MikroORM's own schema model
 * (DatabaseSchema.fromMetadata, what the schema diff compares a database with). Nothing here repeats
 * a table, column or key; this file only spells the model as the DDL fragments the upgrade's steps
 * run one at a time (column by column, keys last, after the merges).
 */
import { LEGACY_TABLES, type LegacyTable } from '@pdr/contracts';
import { DatabaseSchema, type AbstractSqlPlatform, type Column, type DatabaseTable } from '@mikro-orm/mysql';
import type { Em } from '../orm';
import { ALL_ENTITIES } from '../entities';

export interface TargetColumn {
  name: string;
  /** The column definition as in a CREATE TABLE (`name TYPE ...`). */
  def: string;
  generated: boolean;
}

export interface TargetIndex {
  name: string;
  /** `UNIQUE KEY name (...)`, `KEY name (...)` or `CONSTRAINT name FOREIGN KEY ...`. */
  def: string;
  kind: 'unique' | 'key' | 'foreign';
}

export interface TargetTable {
  name: string;
  create: string;
  columns: TargetColumn[];
  indexes: TargetIndex[];
}

/** pdr_run's nine tables (SPEC §4), in the order their references allow: the contract's list (pdr db import sends them in this order). */
export const PDR_RUN_TABLES = LEGACY_TABLES;
export type PdrRunTable = LegacyTable;

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

function columnDef(c: Column): string {
  let def = `${c.name} ${c.type.toUpperCase()}`;
  if (c.generated) {
    const m = /^(.*) (stored|virtual)$/is.exec(c.generated);
    return `${def} GENERATED ALWAYS AS ${m ? `${m[1]} ${m[2].toUpperCase()}` : c.generated}`;
  }
  def += c.nullable ? ' NULL' : ' NOT NULL';
  if (c.autoincrement) def += ' AUTO_INCREMENT';
  if (c.default !== undefined && c.default !== null) def += ` DEFAULT ${c.default}`;
  else if (c.nullable) def += ' DEFAULT NULL';
  if (c.extra) def += ` ${c.extra.toUpperCase()}`;
  return def;
}

function toTarget(table: DatabaseTable): TargetTable {
  const columns = table.getColumns().map((c) => ({ name: c.name, def: columnDef(c), generated: !!c.generated }));
  const indexes: TargetIndex[] = [];
  let primary: string[] = [];
  for (const i of table.getIndexes()) {
    if (i.primary) primary = i.columnNames;
    else indexes.push({ name: i.keyName, def: `${i.unique ? 'UNIQUE KEY' : 'KEY'} ${i.keyName} (${i.columnNames.join(', ')})`, kind: i.unique ? 'unique' : 'key' });
  }
  for (const f of Object.values(table.getForeignKeys())) {
    const onDelete = (f.deleteRule ?? 'restrict').toUpperCase();
    const onUpdate = (f.updateRule ?? 'restrict').toUpperCase();
    indexes.push({
      name: f.constraintName,
      def: `CONSTRAINT ${f.constraintName} FOREIGN KEY (${f.columnNames.join(', ')}) REFERENCES ${f.referencedTableName} (${f.referencedColumnNames.join(', ')}) ON UPDATE ${onUpdate} ON DELETE ${onDelete}`,
      kind: 'foreign',
    });
  }
  const lines = [...columns.map((c) => c.def), `PRIMARY KEY (${primary.join(', ')})`, ...indexes.map((i) => i.def)];
  return { name: table.name, create: `CREATE TABLE ${table.name} (\n  ${lines.join(',\n  ')}\n) ${TABLE_OPTIONS}`, columns, indexes };
}

const cache = new WeakMap<object, ReadonlyMap<string, TargetTable>>();

/** Every table of the entities by name, in the order of their declaration (references point backwards). */
export function targetTables(em: Em): ReadonlyMap<string, TargetTable> {
  const metadata = em.getMetadata();
  let tables = cache.get(metadata);
  if (!tables) {
    const schema = DatabaseSchema.fromMetadata(Object.values(metadata.getAll()), em.getPlatform() as AbstractSqlPlatform, em.config);
    const byName = new Map(schema.getTables().map((t) => [t.name, toTarget(t)]));
    // pdr_run's tables first (their order), then ours as listed in ALL_ENTITIES (grids before the tables that reference it)
    const order = [...PDR_RUN_TABLES, ...ALL_ENTITIES.map((e) => metadata.find(e.meta.className)!.tableName)];
    tables = new Map([...new Set(order)].filter((t) => byName.has(t)).map((t) => [t, byName.get(t)!]));
    cache.set(metadata, tables);
  }
  return tables;
}

export function targetTable(em: Em, name: string): TargetTable {
  const t = targetTables(em).get(name);
  if (!t) throw new Error(`no entity for table ${name}`);
  return t;
}
