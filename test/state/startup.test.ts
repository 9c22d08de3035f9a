/**
 * Start-up from the environment (PDR_DB_*, PDR_NATS_*): the database is created when missing, the
 * migrations run once, the service answers health.ping as 'state', and a second start is a no-op.
 */
import { randomBytes } from 'crypto';
import { names } from '@pdr/contracts';
import { collectHealth, connectNats } from '@pdr/messaging';
import { all, createOrm, databaseEnv, dropDatabase, Em, MIGRATIONS, MIGRATIONS_TABLE } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { startStateService } from '../../apps/state/src/main';
import { NATS_URL, quietLogger } from './helpers';

jest.setTimeout(120_000);

const KEYS = ['PDR_DB_HOST', 'PDR_DB_PORT', 'PDR_DB_DATABASE', 'PDR_DB_USERNAME', 'PDR_DB_PASSWORD', 'PDR_NATS_URL', 'PDR_NATS_PREFIX'];
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
const db = testDatabaseSettings();
const ns = `t${randomBytes(4).toString('hex')}`;

beforeAll(() => {
  Object.assign(process.env, {
    ...databaseEnv(db),
    PDR_NATS_URL: NATS_URL,
    PDR_NATS_PREFIX: ns,
  });
});

afterAll(async () => {
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  const nc = await connectNats({ url: NATS_URL, name: 'cleanup', reconnect: false });
  await (await nc.jetstreamManager()).streams.delete(names(ns).jobStream).catch(() => undefined);
  await nc.close();
  await dropDatabase(db);
});

it('creates the missing database, migrates it, answers health.ping; starting again applies nothing', async () => {
  const probe = await createOrm({ ...db, database: 'information_schema' }, { poolMax: 1 });
  const before = await all<{ n: string }>(probe.em.fork() as Em, 'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db.database]);
  await probe.close(true);
  expect(before).toEqual([]);

  const first = await startStateService({ logger: quietLogger(), reconcile: false });
  try {
    expect(first.settings.database).toBe(db.database);
    const applied = await all<{ name: string }>(first.orm.em.fork() as Em, `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
    expect(applied.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    const tables = await all<{ t: string }>(first.orm.em.fork() as Em, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [db.database]);
    expect(tables.map((r) => r.t)).toEqual(
      expect.arrayContaining(['model_names', 'users', 'kosmatau_executables', 'chemical_databases', 'kosmatau_parameters', 'pdr_model_jobs', 'hdf_files', 'json_templates', 'json_files']),
    );
    const health = await collectHealth(first.service.infra.nc, ns, 500);
    expect(health.filter((x) => x.service === 'state')).toHaveLength(1);
  } finally {
    await first.close();
  }
  const second = await startStateService({ logger: quietLogger(), reconcile: false });
  try {
    const applied = await all<{ name: string }>(second.orm.em.fork() as Em, `SELECT name FROM ${MIGRATIONS_TABLE}`);
    expect(applied).toHaveLength(MIGRATIONS.length);
  } finally {
    await second.close();
  }
});

it('names a bad setting instead of starting', async () => {
  process.env.PDR_DB_PORT = 'abc';
  try {
    await expect(startStateService({ logger: quietLogger() })).rejects.toThrow(/PDR_DB_PORT/);
  } finally {
    process.env.PDR_DB_PORT = String(db.port);
  }
});

it('gives up on an unreachable database after the wait, naming it without the password', async () => {
  const err = await startStateService({
    logger: quietLogger(),
    db: { ...db, host: '127.0.0.1', port: 1, password: 'sekret-pw' },
    waitForDatabaseMs: 1_000,
  }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(/127\.0\.0\.1:1/);
  expect((err as Error).message).not.toMatch(/sekret-pw/);
});
