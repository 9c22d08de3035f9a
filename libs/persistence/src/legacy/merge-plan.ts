/**
 * Which rows of a pdr_run database share a natural identity (the unique keys of this project's
 * schema) and which one of each group survives. Pure: the upgrade runs it on the rows it reads, the
 * dry run on the same rows with the earlier tables' merges applied in memory.
 *
 * Survivor: the lowest id, except for jobs: the best status first (finished, skipped, problem, failed,
 * cancelled, anything else), then the lowest id — pdr_run's second run of a grid made `skipped` copies
 * of `finished` jobs, and the finished row carries the times and files of the real run.
 */

/** A referencing column: `table.column` holds ids of the merged table. */
export interface Reference {
  table: string;
  column: string;
}

export interface MergeSpec {
  table: string;
  /** Human-readable natural key, as the unique key of this project's schema. */
  keyText: string;
  /** Columns read for the key (after the references to earlier tables are remapped). */
  keyColumns: readonly string[];
  /** Columns of this row that reference earlier merged tables: column → table. */
  refColumns: Readonly<Record<string, string>>;
  /** Where this table's ids are referenced. */
  references: readonly Reference[];
}

export const MERGE_SPECS: readonly MergeSpec[] = [
  {
    table: 'model_names',
    keyText: '(model_name, model_path)',
    keyColumns: ['model_name', 'model_path'],
    refColumns: {},
    references: [
      { table: 'kosmatau_parameters', column: 'model_name_id' },
      { table: 'pdr_model_jobs', column: 'model_name_id' },
      { table: 'hdf_files', column: 'model_name_id' },
      { table: 'grids', column: 'model_name_id' },
    ],
  },
  {
    table: 'users',
    keyText: '(username, email)',
    keyColumns: ['username', 'email'],
    refColumns: {},
    references: [
      { table: 'pdr_model_jobs', column: 'user_id' },
      { table: 'grids', column: 'user_id' },
    ],
  },
  {
    table: 'kosmatau_executables',
    keyText: '(code_revision, compilation_date, executable_file_name, executable_full_path, sha256_sum)',
    keyColumns: ['code_revision', 'compilation_date', 'executable_file_name', 'executable_full_path', 'sha256_sum'],
    refColumns: {},
    references: [
      { table: 'pdr_model_jobs', column: 'kosmatau_executable_id' },
      { table: 'hdf_files', column: 'pdrexe_id' },
      { table: 'grid_executables', column: 'executable_id' },
    ],
  },
  {
    table: 'chemical_databases',
    keyText: '(chem_rates_file_name, chem_rates_full_path, database_origin)',
    keyColumns: ['chem_rates_file_name', 'chem_rates_full_path', 'database_origin'],
    refColumns: {},
    references: [
      { table: 'pdr_model_jobs', column: 'chemical_database_id' },
      { table: 'grids', column: 'chemical_database_id' },
    ],
  },
  {
    table: 'kosmatau_parameters',
    keyText: '(model_name_id, parameter_hash)',
    keyColumns: ['model_name_id', 'parameter_hash'],
    refColumns: { model_name_id: 'model_names' },
    references: [
      { table: 'pdr_model_jobs', column: 'kosmatau_parameters_id' },
      { table: 'hdf_files', column: 'parameter_id' },
    ],
  },
  {
    table: 'pdr_model_jobs',
    keyText: '(model_name_id, kosmatau_parameters_id)',
    keyColumns: ['model_name_id', 'kosmatau_parameters_id'],
    refColumns: { model_name_id: 'model_names', kosmatau_parameters_id: 'kosmatau_parameters' },
    references: [
      { table: 'hdf_files', column: 'job_id' },
      { table: 'json_files', column: 'job_id' },
      { table: 'grid_points', column: 'job_id' },
      { table: 'job_attempts', column: 'job_id' },
      { table: 'job_steps', column: 'job_id' },
      { table: 'job_files', column: 'job_id' },
    ],
  },
  {
    table: 'hdf_files',
    keyText: '(job_id)',
    keyColumns: ['job_id'],
    refColumns: { job_id: 'pdr_model_jobs' },
    references: [],
  },
  {
    table: 'json_files',
    keyText: '(job_id, name)',
    keyColumns: ['job_id', 'name'],
    refColumns: { job_id: 'pdr_model_jobs' },
    references: [],
  },
];

const STATUS_RANK: Readonly<Record<string, number>> = { finished: 0, skipped: 1, problem: 2, failed: 3, cancelled: 4 };

export type KeyRow = { id: number; status?: string | null } & Record<string, unknown>;

export interface Merge {
  mergedId: number;
  survivorId: number;
}

export interface TableMerges {
  spec: MergeSpec;
  /** Groups with more than one row: survivor first. */
  groups: { key: unknown[]; survivorId: number; mergedIds: number[] }[];
  merges: Merge[];
}

/** id → surviving id, per table, for the references of later tables. */
export type Remap = Map<string, Map<number, number>>;

function keyValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  return v ?? null;
}

/**
 * The groups of rows with equal natural key (references remapped through `remap`); rows whose key
 * has a NULL column are never merged (a unique key allows several NULLs).
 */
export function planTableMerges(spec: MergeSpec, rows: readonly KeyRow[], remap: Remap = new Map()): TableMerges {
  const byKey = new Map<string, KeyRow[]>();
  const keys = new Map<string, unknown[]>();
  for (const r of rows) {
    const key = spec.keyColumns.map((c) => {
      const v = keyValue(r[c]);
      const refTable = spec.refColumns[c];
      return refTable && typeof v === 'number' ? (remap.get(refTable)?.get(v) ?? v) : v;
    });
    if (key.some((v) => v === null)) continue;
    const text = JSON.stringify(key);
    const list = byKey.get(text);
    if (list) list.push(r);
    else {
      byKey.set(text, [r]);
      keys.set(text, key);
    }
  }
  const groups: TableMerges['groups'] = [];
  const merges: Merge[] = [];
  for (const [text, list] of byKey) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => rank(spec, a) - rank(spec, b) || a.id - b.id);
    const survivorId = sorted[0].id;
    const mergedIds = sorted.slice(1).map((r) => r.id);
    groups.push({ key: keys.get(text)!, survivorId, mergedIds });
    for (const m of mergedIds) merges.push({ mergedId: m, survivorId });
  }
  groups.sort((a, b) => a.survivorId - b.survivorId);
  merges.sort((a, b) => a.mergedId - b.mergedId);
  return { spec, groups, merges };
}

function rank(spec: MergeSpec, r: KeyRow): number {
  if (spec.table !== 'pdr_model_jobs') return 0;
  return STATUS_RANK[String(r.status)] ?? 5;
}

/** Adds a table's merges to the remap of later tables. */
export function addToRemap(remap: Remap, t: TableMerges): void {
  const m = remap.get(t.spec.table) ?? new Map<number, number>();
  for (const x of t.merges) m.set(x.mergedId, x.survivorId);
  remap.set(t.spec.table, m);
}
