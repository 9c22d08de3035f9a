/**
 * Property builders with an EXPLICIT column type on every property (no reflection). The entities are
 * the one description of the schema: migrations are generated from them (`npm run db:migration`),
 * and a test migrates a fresh database and asserts MikroORM's schema diff against them is empty.
 * Property names are the column names (EntityCaseNamingStrategy), so pdr_run's case-sensitive
 * names (`rescaleQF`, `Xhtry`, `Niter`) survive unchanged. Integers are signed (pdr_run's INT),
 * which MikroORM would otherwise make unsigned for primary keys.
 */
import { BigIntType } from '@mikro-orm/core';

type Opts = { nullable?: boolean; defaultRaw?: string; default?: string | number | null; length?: number; unique?: boolean | string; extra?: string };

export const pk = () => ({ type: 'integer', columnType: 'int', primary: true, autoincrement: true, unsigned: false }) as const;
export const bigPk = () => ({ type: new BigIntType('number'), columnType: 'bigint', primary: true, autoincrement: true, unsigned: false }) as const;
export const int = (o: Opts = {}) => ({ type: 'integer', columnType: 'int', nullable: false, unsigned: false, ...o }) as const;
export const bigint = (o: Opts = {}) => ({ type: new BigIntType('number'), columnType: 'bigint', nullable: false, unsigned: false, ...o }) as const;
export const double = (o: Opts = {}) => ({ type: 'double', runtimeType: 'number', columnType: 'double', nullable: false, ...o }) as const;
export const varchar = (length: number, o: Opts = {}) => ({ type: 'string', columnType: `varchar(${length})`, length, nullable: false, ...o }) as const;
export const char = (length: number, o: Opts = {}) => ({ type: 'string', columnType: `char(${length})`, length, nullable: false, ...o }) as const;
export const text = (o: Opts = {}) => ({ type: 'text', columnType: 'text', nullable: false, ...o }) as const;
export const bool = (o: Opts = {}) => ({ type: 'boolean', columnType: 'tinyint(1)', nullable: false, ...o }) as const;
/** DATETIME(3), UTC (the connection's time_zone is +00:00). */
export const datetime3 = (o: Opts = {}) => ({ type: 'datetime', columnType: 'datetime(3)', length: 3, nullable: false, ...o }) as const;
/** DATETIME without fractions (pdr_run's kosmatau_executables.compilation_date). */
export const datetime0 = (o: Opts = {}) => ({ type: 'datetime', columnType: 'datetime', length: 0, nullable: false, ...o }) as const;
export const json = (o: Opts = {}) => ({ type: 'json', columnType: 'json', nullable: false, ...o }) as const;
/** A generated (PERSISTENT) column: read, never written. */
export const generatedChar64 = (expression: string) =>
  ({ type: 'string', columnType: 'char(64)', length: 64, nullable: true, generated: `(${expression}) stored` }) as const;

export const NULLABLE = { nullable: true } as const;

/** What a referenced row's deletion does to this one: refused (the default), or this row goes too. */
type OnDelete = 'restrict' | 'cascade';

/**
 * A foreign key column (INT, the referenced table's id): a many-to-one relation mapped to the plain id
 * (`mapToPk`), so rows carry numbers as before, while the schema gets its constraint
 * `<table>_<column>_foreign` (ON UPDATE RESTRICT, ON DELETE as given).
 */
export const fk = (entity: string, o: { nullable?: boolean; onDelete?: OnDelete; primary?: boolean } = {}) =>
  ({
    kind: 'm:1',
    entity,
    mapToPk: true,
    columnType: 'int',
    nullable: o.nullable ?? false,
    deleteRule: o.onDelete ?? 'restrict',
    // no index of its own: the ones a table needs are declared with it (`indexes`, `uniques`)
    index: false,
    updateRule: 'restrict',
    ...(o.primary ? { primary: true } : {}),
  }) as const;
