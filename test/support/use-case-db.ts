/**
 * A database of its own for the state use cases' unit specs (apps/state/src/**\/*.spec.ts): a fresh
 * `pdr_test_<random>` on the real MariaDB (PDR_DB_*, local defaults), migrated, with a few rows made
 * through the entities; dropped by `close()`. No NATS, no service: the spec calls the use case with a
 * fork of the entity manager, as the service does per message.
 */
import { createOrm, dropDatabase, Em, ensureDatabase, Grid, GridPoint, migrateUp, ModelName, Orm, PdrModelJob, type DatabaseSettings } from '@pdr/persistence';
import { testDatabaseSettings } from './database';
import { JobStatus } from '@pdr/contracts';
import { createHash } from 'crypto';
import { mockGridRequest } from './grid-request';

export interface UseCaseDb {
  db: DatabaseSettings;
  orm: Orm;
  /** A new fork (one per "message"). */
  em(): Em;
  /** A grid of `n` jobs in `status` (ids ascending); returns the grid id and job ids. */
  grid(n: number, status?: JobStatus): Promise<{ gridId: number; jobIds: number[] }>;
  /** The rows of these jobs, by id. */
  jobs(ids: number[]): Promise<Map<number, Record<string, unknown>>>;
  close(): Promise<void>;
}

let seq = 0;

/** INSERT of many rows and their ids (MikroORM's em.insertMany returns only the first id on MySQL; the driver gives them all). */
async function insertIds(em: Em, entity: string, rows: object[]): Promise<number[]> {
  const res = await em.getDriver().nativeInsertMany(entity, rows as never[], { ctx: em.getTransactionContext() });
  return (res.rows ?? []).map((r) => Number(r.id));
}

export async function openUseCaseDb(): Promise<UseCaseDb> {
  const db = testDatabaseSettings();
  await ensureDatabase(db);
  const orm = await createOrm(db, { poolMax: 4, multipleStatements: true }); // as the state service's (packetTransaction)
  await migrateUp(orm);
  const em = () => orm.em.fork() as Em;
  return {
    db,
    orm,
    em,
    async grid(n, status = 'pending') {
      const e = em();
      const name = `m${++seq}`;
      const request = mockGridRequest('/opt/kosmatau', '/data/grids');
      const modelNameId = await e.insert(ModelName, { model_name: name, model_path: `/s/${name}` });
      const gridId = await e.insert(Grid, {
        model_name_id: modelNameId,
        request_hash: createHash('sha256').update(name).digest('hex'),
        physics: request.physics,
        run_options: request.run,
        onion_species: 'CO',
        point_count: n,
      } as never);
      const params = await insertIds(
        e,
        'KosmatauParameters',
        Array.from({ length: n }, (_, i) => ({ model_name_id: modelNameId, parameter_hash: createHash('sha256').update(`${name}/${i}`).digest('hex') })),
      );
      const jobIds = await insertIds(
        e,
        'PdrModelJob',
        params.map((p, i) => ({ model_name_id: modelNameId, kosmatau_parameters_id: p, model_job_name: `${name}_${i}`, grid_id: gridId, status, pending: status === 'pending' || status === 'queued', active: status === 'running' })),
      );
      await e.insertMany(GridPoint, jobIds.map((job_id) => ({ grid_id: gridId as number, job_id })));
      return { gridId: gridId as number, jobIds };
    },
    async jobs(ids) {
      const rows = await em().createQueryBuilder(PdrModelJob).select('*').where({ id: { $in: ids } }).execute<Record<string, unknown>[]>('all', false);
      return new Map(rows.map((r) => [r.id as number, r]));
    },
    async close() {
      await orm.close(true);
      await dropDatabase(db);
    },
  };
}

/**
 * The database of a spec file: opened before its tests, dropped after them (jest's beforeAll/afterAll).
 * Call at the top of the file; the returned handle works inside the tests.
 */
export function useUseCaseDb(): UseCaseDb {
  let open: UseCaseDb | undefined;
  beforeAll(async () => {
    open = await openUseCaseDb();
  });
  afterAll(async () => {
    await open?.close();
  });
  const t = (): UseCaseDb => {
    if (!open) throw new Error('the use case database is open only inside the tests of its file');
    return open;
  };
  return {
    get db() {
      return t().db;
    },
    get orm() {
      return t().orm;
    },
    em: () => t().em(),
    grid: (n, status) => t().grid(n, status),
    jobs: (ids) => t().jobs(ids),
    close: () => t().close(),
  };
}
