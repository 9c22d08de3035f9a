import type { GridUpsertReply, RpcRequestParsed } from '@pdr/contracts';
import { chemistryString, checkNonDefaultParameters } from '@pdr/domain';
import { checkLength, Em, run, transaction, upsertChemicalDatabase, upsertModelName, upsertUser } from '@pdr/persistence';
import { badRequest } from '../infrastructure/errors';

/**
 * Use case "grid upsert": get-or-create the model name, user and chemistry rows, then the grid row,
 * idempotent by (model name row, requestHash). All insert-first (unique keys decide), in one short
 * transaction (run again on a deadlock). `created` is exact: on a duplicate the statement bumps
 * `submit_count`, which MariaDB reports as 2 affected rows instead of 1.
 */
export async function upsertGrid(em: Em, req: RpcRequestParsed<'gridUpsert'>): Promise<Omit<GridUpsertReply, 'installationId'>> {
  checkPhysics(req.physics);
  checkLength('modelPath', req.modelPath, 512);
  const onionSpecies = req.onionSpecies.join(' ');
  return transaction(em, async (tem) => {
    const modelNameId = await upsertModelName(tem, { modelName: req.modelName, modelPath: req.modelPath, description: req.description });
    const userId = await upsertUser(tem, req.user);
    const chemId = await upsertChemicalDatabase(tem, req.chemicalDatabase);
    const res = await run(
      tem,
      `INSERT INTO grids (model_name_id, request_hash, description, user_id, chemical_database_id, physics, run_options, onion_species, seed, point_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), submit_count = submit_count + 1, last_submitted_at = CURRENT_TIMESTAMP(3)`,
      [
        modelNameId,
        req.requestHash,
        req.description,
        userId,
        chemId,
        JSON.stringify(req.physics),
        JSON.stringify(req.run),
        onionSpecies,
        req.seed,
        req.pointCount,
      ],
    );
    return { gridId: res.insertId, modelNameId, created: res.affectedRows === 1 };
  });
}

/** The grid's physics must build parameter rows: unknown or derived columns, bad values, empty chemistry → BAD_REQUEST. */
function checkPhysics(physics: RpcRequestParsed<'gridUpsert'>['physics']): void {
  try {
    checkNonDefaultParameters(physics.nonDefault);
    chemistryString(physics.chemistry);
    if (!Number.isFinite(physics.alpha) || !Number.isFinite(physics.rcore)) throw new Error('alpha and rcore must be finite numbers');
  } catch (err) {
    throw badRequest(`physics: ${(err as Error).message}`);
  }
}
