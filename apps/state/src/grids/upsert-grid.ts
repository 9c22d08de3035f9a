import type { GridUpsertReply, RpcRequestParsed } from '@pdr/contracts';
import { chemistryString, checkNonDefaultParameters } from '@pdr/domain';
import { raw } from '@mikro-orm/core';
import { checkLength, Em, Grid, transaction, upsertChemicalDatabase, upsertModelName, upsertUser } from '@pdr/persistence';
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
    const res = await tem
      .createQueryBuilder(Grid)
      .insert({
        model_name_id: modelNameId,
        request_hash: req.requestHash,
        description: req.description,
        user_id: userId,
        chemical_database_id: chemId,
        physics: req.physics,
        run_options: req.run,
        onion_species: onionSpecies,
        seed: req.seed,
        point_count: req.pointCount,
      })
      .onConflict(['model_name_id', 'request_hash'])
      .merge({ id: raw('LAST_INSERT_ID(id)'), submit_count: raw('submit_count + 1'), last_submitted_at: raw('CURRENT_TIMESTAMP(3)') })
      .execute('run');
    return { gridId: Number(res.insertId), modelNameId, created: res.affectedRows === 1 };
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
