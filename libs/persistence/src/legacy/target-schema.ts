/**
 * The schema `pdr db upgrade` brings a pdr_run database to: exactly the tables of the initial
 * migration (its CREATE TABLE statements are the one definition; nothing here repeats them). After
 * the upgrade that migration is recorded as applied and the later migrations run as on any database.
 */
import { STATEMENTS } from '../migrations/Migration20250601000000Initial';

export interface TargetColumn {
  name: string;
  /** The column definition as in the CREATE TABLE (`name TYPE ...`). */
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

/** pdr_run's nine tables (SPEC §4), in the order their references allow. */
export const PDR_RUN_TABLES = [
  'model_names',
  'users',
  'kosmatau_executables',
  'chemical_databases',
  'kosmatau_parameters',
  'json_templates',
  'pdr_model_jobs',
  'hdf_files',
  'json_files',
] as const;
export type PdrRunTable = (typeof PDR_RUN_TABLES)[number];

function parse(statement: string): TargetTable {
  const head = /^CREATE TABLE (\w+) \(\n/.exec(statement);
  if (!head) throw new Error(`initial migration: cannot read ${statement.slice(0, 40)}`);
  const body = statement.slice(head[0].length, statement.lastIndexOf('\n)'));
  const columns: TargetColumn[] = [];
  const indexes: TargetIndex[] = [];
  for (const raw of body.split('\n')) {
    const line = raw.trim().replace(/,$/, '');
    if (!line || line.startsWith('PRIMARY KEY')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^UNIQUE KEY (\w+) /.exec(line))) indexes.push({ name: m[1], def: line, kind: 'unique' });
    else if ((m = /^KEY (\w+) /.exec(line))) indexes.push({ name: m[1], def: line, kind: 'key' });
    else if ((m = /^CONSTRAINT (\w+) FOREIGN KEY/.exec(line))) indexes.push({ name: m[1], def: line, kind: 'foreign' });
    else columns.push({ name: line.split(' ')[0], def: line, generated: / AS \(/.test(line) });
  }
  return { name: head[1], create: statement, columns, indexes };
}

/** Every table of the initial migration by name, in creation order. */
export const TARGET_TABLES: ReadonlyMap<string, TargetTable> = new Map(STATEMENTS.map((s) => parse(s)).map((t) => [t.name, t]));

export function targetTable(name: string): TargetTable {
  const t = TARGET_TABLES.get(name);
  if (!t) throw new Error(`no table ${name} in the initial migration`);
  return t;
}
