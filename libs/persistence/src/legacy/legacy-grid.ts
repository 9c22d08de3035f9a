/**
 * pdr_run had no grids: its jobs hang only on a model name. So that `pdr status <model>` and `pdr jobs
 * --grid` show them after `pdr db upgrade` / `pdr db import`, every model name with jobs outside any
 * grid gets one grid row "pdr_run jobs of <model>" holding them (grid_points, and their grid_id). Its
 * physics and run options are what the rows tell (alpha, rcore and species of a parameter row,
 * executable, chemistry file, storage base = the parent of model_path), so the row is a valid grid;
 * a later `pdr run` of the same points finds the jobs by their parameter identity and makes its own
 * grid. Idempotent: one grid per model (request_hash of the model id), membership by primary key.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { physics as physicsSchema, runOptions as runOptionsSchema } from '@pdr/contracts';
import type { Em } from '../orm';
import { all, inList, one, run } from '../sql';

/** Timeouts recorded for the legacy grid (pdr_run had none); only used if its jobs are retried with it. */
const LEGACY_TIMEOUT_MS = 24 * 3600 * 1000;

export function legacyGridHash(modelNameId: number): string {
  return createHash('sha256').update(`pdr_run legacy jobs\nmodel_names.id=${modelNameId}`).digest('hex');
}

function plainName(v: unknown, fallback: string): string {
  return typeof v === 'string' && v !== '' && !/[/\\\0]/.test(v) && !v.startsWith('.') && v.length <= 200 ? v : fallback;
}

/**
 * Creates (or completes) the legacy grid of each model name whose jobs have no grid. Returns the
 * number of jobs adopted now. `modelNameIds`: only these models (the import), else all.
 */
export async function adoptLegacyJobs(em: Em, modelNameIds?: readonly number[]): Promise<number> {
  const filter = modelNameIds ? (modelNameIds.length ? `AND model_name_id IN (${inList(modelNameIds.length)})` : 'AND FALSE') : '';
  const models = await all<{ m: number }>(
    em,
    `SELECT DISTINCT model_name_id AS m FROM pdr_model_jobs WHERE grid_id IS NULL AND model_name_id IS NOT NULL ${filter} ORDER BY model_name_id`,
    modelNameIds ? [...modelNameIds] : [],
  );
  let adopted = 0;
  for (const { m } of models) {
    const gridId = await legacyGrid(em, m);
    await run(
      em,
      `INSERT INTO grid_points (grid_id, job_id) SELECT ?, id FROM pdr_model_jobs WHERE model_name_id = ? AND grid_id IS NULL
       ON DUPLICATE KEY UPDATE grid_id = grid_points.grid_id`,
      [gridId, m],
    );
    adopted += (await run(em, 'UPDATE pdr_model_jobs SET time_updated = time_updated, grid_id = ? WHERE model_name_id = ? AND grid_id IS NULL', [gridId, m])).affectedRows;
    await run(em, 'UPDATE grids SET point_count = (SELECT COUNT(*) FROM grid_points WHERE grid_id = ?) WHERE id = ?', [gridId, gridId]);
  }
  return adopted;
}

async function legacyGrid(em: Em, modelNameId: number): Promise<number> {
  const hash = legacyGridHash(modelNameId);
  const existing = await one<{ id: number }>(em, 'SELECT id FROM grids WHERE model_name_id = ? AND request_hash = ?', [modelNameId, hash]);
  if (existing) return existing.id;
  const model = await one<{ name: string; path: string }>(em, 'SELECT model_name AS name, model_path AS path FROM model_names WHERE id = ?', [modelNameId]);
  const job = await one<{
    user_id: number | null;
    chemical_database_id: number | null;
    onion_species: string | null;
    first: string | null;
    last: string | null;
  }>(
    em,
    `SELECT MIN(user_id) AS user_id, MIN(chemical_database_id) AS chemical_database_id, MIN(onion_species) AS onion_species,
            DATE_FORMAT(MIN(time_created), '%Y-%m-%d %H:%i:%s.%f') AS first, DATE_FORMAT(MAX(COALESCE(time_updated, time_created)), '%Y-%m-%d %H:%i:%s.%f') AS last
       FROM pdr_model_jobs WHERE model_name_id = ?`,
    [modelNameId],
  );
  const params = await one<{ alpha: number | null; rcore: number | null; species: string | null }>(
    em,
    'SELECT alpha, rcore, species FROM kosmatau_parameters WHERE model_name_id = ? ORDER BY id LIMIT 1',
    [modelNameId],
  );
  const exe = await one<{ name: string | null; dir: string | null }>(
    em,
    `SELECT e.executable_file_name AS name, e.executable_full_path AS dir FROM pdr_model_jobs j JOIN kosmatau_executables e ON e.id = j.kosmatau_executable_id
      WHERE j.model_name_id = ? ORDER BY j.id LIMIT 1`,
    [modelNameId],
  );
  const chem = job?.chemical_database_id
    ? await one<{ name: string }>(em, 'SELECT chem_rates_file_name AS name FROM chemical_databases WHERE id = ?', [job.chemical_database_id])
    : undefined;
  const physics = physicsSchema.parse({
    alpha: params?.alpha ?? 1.5,
    rcore: params?.rcore ?? 0.2,
    chemistry: params?.species?.trim() ? params.species : 'unknown',
    nonDefault: {},
  });
  const runOptions = runOptionsSchema.parse({
    baseDir: exe?.dir || '/',
    pdrFileName: plainName(exe?.name, 'unknown'),
    onionFileName: 'onion',
    chemDatabase: plainName(chem?.name, 'unknown'),
    storage: { type: 'local', baseDir: model?.path ? path.posix.dirname(model.path) : '/' },
    timeouts: { pdrMs: LEGACY_TIMEOUT_MS, onionMs: LEGACY_TIMEOUT_MS },
  });
  const first = job?.first ?? null;
  await run(
    em,
    `INSERT INTO grids (model_name_id, request_hash, description, user_id, chemical_database_id, physics, run_options, onion_species, point_count, created_at, last_submitted_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, COALESCE(?, NOW(3)), COALESCE(?, NOW(3)))
     ON DUPLICATE KEY UPDATE id = id`,
    [
      modelNameId,
      hash,
      `pdr_run jobs of model ${JSON.stringify(model?.name ?? '')} (adopted from pdr_run's database)`.slice(0, 1000),
      job?.user_id ?? null,
      job?.chemical_database_id ?? null,
      JSON.stringify(physics),
      JSON.stringify(runOptions),
      job?.onion_species ?? '',
      first,
      job?.last ?? first,
    ],
  );
  const row = await one<{ id: number }>(em, 'SELECT id FROM grids WHERE model_name_id = ? AND request_hash = ?', [modelNameId, hash]);
  return row!.id;
}
