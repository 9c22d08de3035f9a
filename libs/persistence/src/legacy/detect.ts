/**
 * Is this a database pdr_run created and `pdr db upgrade` has not (completely) upgraded? The state
 * service asks before migrating (migrateUp) and refuses such a database with one clear line instead
 * of failing half-way ("Table 'model_names' already exists", issue 14).
 */
import type { Em } from '../orm';
import { MIGRATIONS_TABLE } from '../orm';
import { all, ident, one } from '../sql';
import { PDR_RUN_TABLES } from './target-schema';

/** The migration an upgraded pdr_run schema is recorded at (the upgrade's last step records it). */
export const INITIAL_MIGRATION = 'Migration20250601000000Initial';

/** A pdr_run schema the state service must not touch until `pdr db upgrade` ran. */
export class LegacySchemaError extends Error {
  constructor(database: string) {
    super(
      `database ${database} holds a pdr_run schema that has not been upgraded yet (nothing was changed): ` +
        'stop pdr_run, back the database up and run `pdr db upgrade` (`pdr db upgrade --dry-run` shows what it will do)',
    );
    this.name = 'LegacySchemaError';
  }
}

export type SchemaKind = 'empty' | 'current' | 'pdr_run' | 'unknown';

export interface SchemaState {
  kind: SchemaKind;
  tables: string[];
  /** pdr_run tables missing (kind 'unknown' when some are). */
  missing: string[];
}

/** What the database holds: nothing, this project's schema (initial migration recorded), pdr_run's, or something else. */
export async function inspectSchema(em: Em): Promise<SchemaState> {
  const tables = (await all<{ t: string }>(em, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME')).map((r) => r.t);
  const has = new Set(tables);
  if (has.has(MIGRATIONS_TABLE)) {
    const rec = await one<{ n: number }>(em, `SELECT COUNT(*) AS n FROM ${ident(MIGRATIONS_TABLE)} WHERE name = ?`, [INITIAL_MIGRATION]);
    if (Number(rec?.n ?? 0) > 0) return { kind: 'current', tables, missing: [] };
  }
  const present = PDR_RUN_TABLES.filter((t) => has.has(t));
  const missing = PDR_RUN_TABLES.filter((t) => !has.has(t));
  if (present.length === 0) return { kind: 'empty', tables, missing };
  // pdr_run's core tables; json_templates/json_files came later in pdr_run and may be absent
  const core = ['model_names', 'kosmatau_parameters', 'pdr_model_jobs'];
  return { kind: core.every((t) => has.has(t)) ? 'pdr_run' : 'unknown', tables, missing };
}

/** Throws LegacySchemaError when the database holds a pdr_run schema that was not upgraded (called before migrating). */
export async function assertNotLegacy(em: Em, database: string): Promise<void> {
  const s = await inspectSchema(em);
  if (s.kind === 'pdr_run') throw new LegacySchemaError(database);
  if (s.kind === 'unknown') {
    throw new LegacySchemaError(`${database} (some of pdr_run's tables, missing: ${s.missing.join(', ')})`);
  }
}

