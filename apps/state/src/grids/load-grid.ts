import type { Physics, RunOptions } from '@pdr/contracts';
import { physics as physicsSchema, runOptions } from '@pdr/contracts';
import { Em, Grid } from '@pdr/persistence';
import { badRequest, notFound } from '../infrastructure/errors';

/** A grid row with its model name, as the use cases need it. */
export interface LoadedGrid {
  id: number;
  modelNameId: number;
  modelName: string;
  modelPath: string;
  userId: number | null;
  /** users.username of the grid's submitter (null when the row has none). */
  username: string | null;
  chemicalDatabaseId: number | null;
  onionSpecies: string;
  physics: Physics;
  run: RunOptions;
  seed: number | null;
  requestHash: string;
  pointCount: number;
  createdAt: string;
  cancelRequested: boolean;
  cancelKill: boolean;
}

interface GridDbRow {
  id: number;
  model_name_id: number;
  model_name: string;
  model_path: string;
  user_id: number | null;
  username: string | null;
  chemical_database_id: number | null;
  onion_species: string;
  physics: string | object;
  run_options: string | object;
  seed: string | number | null;
  request_hash: string;
  point_count: number;
  created_at: string;
  cancel_requested: number;
  cancel_kill: number;
}

/** Grids with their model name and submitter (raw rows: the JSON columns are parsed and checked by toGrid). */
function gridQuery(em: Em) {
  return em
    .createQueryBuilder(Grid, 'g')
    .select([
      // the relation columns read from the joined rows (the query builder would select the join's id otherwise)
      'g.id', 'm.id as model_name_id', 'm.model_name', 'm.model_path', 'u.id as user_id', 'u.username', 'g.chemical_database_id', 'g.onion_species',
      'g.physics', 'g.run_options', 'g.seed', 'g.request_hash', 'g.point_count', 'g.created_at', 'g.cancel_requested', 'g.cancel_kill',
    ])
    .join('g.model_name_id', 'm')
    .leftJoin('g.user_id', 'u');
}

function parseJson(v: string | object): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

function toGrid(r: GridDbRow): LoadedGrid {
  return {
    id: r.id,
    modelNameId: r.model_name_id,
    modelName: r.model_name,
    modelPath: r.model_path,
    userId: r.user_id,
    username: r.username,
    chemicalDatabaseId: r.chemical_database_id,
    onionSpecies: r.onion_species,
    // stored by gridUpsert after validation; parsed again so a hand-edited row fails clearly here
    physics: physicsSchema.parse(parseJson(r.physics)),
    run: runOptions.parse(parseJson(r.run_options)),
    seed: r.seed === null ? null : Number(r.seed),
    requestHash: r.request_hash,
    pointCount: r.point_count,
    createdAt: r.created_at,
    cancelRequested: !!r.cancel_requested,
    cancelKill: !!r.cancel_kill,
  };
}

export async function loadGrid(em: Em, gridId: number): Promise<LoadedGrid | undefined> {
  const [r] = await gridQuery(em).where({ id: gridId }).execute<GridDbRow[]>('all', false);
  return r && toGrid(r);
}

export async function loadGridOrFail(em: Em, gridId: number): Promise<LoadedGrid> {
  const g = await loadGrid(em, gridId);
  if (!g) throw notFound(`grid ${gridId} does not exist`);
  return g;
}

/** A grid by id, or the latest grid of a model name (any storage path). */
export async function selectGrid(em: Em, selector: { gridId?: number; modelName?: string }): Promise<LoadedGrid> {
  if (selector.gridId !== undefined) return loadGridOrFail(em, selector.gridId);
  if (selector.modelName === undefined) throw badRequest('give exactly one of gridId or modelName');
  const [r] = await gridQuery(em).where({ 'm.model_name': selector.modelName }).orderBy({ id: 'desc' }).limit(1).execute<GridDbRow[]>('all', false);
  if (!r) throw notFound(`no grid of model ${JSON.stringify(selector.modelName)}`);
  return toGrid(r);
}

export async function recentGrids(em: Em, limit: number): Promise<LoadedGrid[]> {
  const rows = await gridQuery(em).orderBy({ id: 'desc' }).limit(limit).execute<GridDbRow[]>('all', false);
  return rows.map(toGrid);
}

