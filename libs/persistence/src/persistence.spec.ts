/** Real MariaDB (PDR_DB_*; default 127.0.0.1:3306 root): schema through migrations, get-or-create races. */
import {
  countPlaceholders,
  createOrm,
  databaseEnv,
  databaseSettingsFromEnvFallback,
  dropDatabase,
  ensureDatabase,
  Em,
  flagsFor,
  fromDbTime,
  intervalToDbTime,
  isDatabaseUnavailable,
  migrateUp,
  MIGRATIONS,
  one,
  Orm,
  pendingMigrations,
  run,
  toDbTime,
  upsertChemicalDatabase,
  upsertExecutable,
  upsertModelName,
  upsertUser,
  ValueTooLongError,
} from './index';
import { testDatabaseSettings } from '../../../test/support/database';

const settings = testDatabaseSettings();
let orm: Orm;
let em: Em;

beforeAll(async () => {
  expect(await ensureDatabase(settings)).toBe(true); // did not exist
  expect(await ensureDatabase(settings)).toBe(false); // idempotent
  orm = await createOrm(settings);
  em = orm.em.fork() as Em;
});

afterAll(async () => {
  await orm?.close(true);
  await dropDatabase(settings);
});

describe('migrations', () => {
  it('apply on an empty database, once, and concurrently from two instances', async () => {
    const other = await createOrm(settings);
    try {
      const [a, b] = await Promise.all([migrateUp(orm), migrateUp(other)]);
      expect([...a, ...b]).toEqual(MIGRATIONS.map((m) => m.name));
      expect(await migrateUp(orm)).toEqual([]);
      expect(await pendingMigrations(orm)).toEqual([]);
    } finally {
      await other.close(true);
    }
  });

  it('give exactly the schema the entities describe: MikroORM finds nothing to change (the migrator\'s own diff)', async () => {
    // the entities are the one description of the schema; `npm run db:migration` writes what closes a difference
    expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
    const diff = await orm.schema.getUpdateSchemaMigrationSQL({ wrap: false });
    expect(diff.up).toBe('');
  });

  it('a changed entity is a difference the diff reports (the check can fail)', async () => {
    const meta = orm.getMetadata().find('Grid')!;
    const prop = meta.properties.description;
    const before = prop.columnTypes[0];
    prop.columnTypes[0] = 'varchar(999)';
    try {
      expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toMatch(/alter table `grids` modify `description` varchar\(999\)/);
    } finally {
      prop.columnTypes[0] = before;
    }
  });

  it('inserts a parameter row with only its identity: the DB fills the pdr_run defaults', async () => {
    const mn = await upsertModelName(em, { modelName: 'defaults', modelPath: '/s/defaults' });
    await run(em, 'INSERT INTO kosmatau_parameters (model_name_id, parameter_hash) VALUES (?, ?)', [mn, 'a'.repeat(64)]);
    const row = await one<Record<string, unknown>>(em, 'SELECT * FROM kosmatau_parameters WHERE model_name_id = ?', [mn]);
    expect(row).toMatchObject({ rcore: 0.2, sigd: 1.9e-21, Xhtry: 1e6, Niter: 60, rescaleQF: 0, fuvstring: 'Lyalpha.fuv', xnsur: null });
  });
});

describe('get-or-create (insert first, unique keys decide)', () => {
  it('50 concurrent creators of one model name end with one row and one id', async () => {
    const forks = Array.from({ length: 50 }, () => orm.em.fork() as Em);
    const ids = await Promise.all(forks.map((f) => upsertModelName(f, { modelName: 'race', modelPath: '/storage/race' })));
    expect(new Set(ids).size).toBe(1);
    const count = await one<{ n: number }>(em, "SELECT COUNT(*) AS n FROM model_names WHERE model_name = 'race'");
    expect(Number(count!.n)).toBe(1);
  });

  it('tells identities apart exactly: case, path, NULL vs empty', async () => {
    const a = await upsertModelName(em, { modelName: 'Case', modelPath: '/s/Case' });
    const b = await upsertModelName(em, { modelName: 'case', modelPath: '/s/case' });
    expect(a).not.toBe(b);
    expect(await upsertUser(em, { username: 'u', email: 'e' })).toBe(await upsertUser(em, { username: 'u', email: 'e' }));
    const c1 = await upsertChemicalDatabase(em, { fileName: 'chem.dat', fullPath: '/b/pdrinpdata/chem.dat', origin: null });
    const c2 = await upsertChemicalDatabase(em, { fileName: 'chem.dat', fullPath: '/b/pdrinpdata/chem.dat', origin: '' });
    const c3 = await upsertChemicalDatabase(em, { fileName: 'chem.dat', fullPath: '/b/pdrinpdata/chem.dat', origin: null });
    expect(c1).not.toBe(c2);
    expect(c3).toBe(c1);
    const x = { fileName: 'pdr', fullPath: '/b/pdr', sha256: null, revision: '1.2.3', compilationDate: '2025-02-11T11:01:00.250Z' };
    const e1 = await upsertExecutable(em, x);
    expect(await upsertExecutable(em, { ...x, compilationDate: '2025-02-11T11:01:00Z' })).toBe(e1);
    expect(await upsertExecutable(em, { ...x, sha256: 'f'.repeat(64) })).not.toBe(e1);
  });

  it('rejects values longer than their column with a named error', async () => {
    await expect(upsertModelName(em, { modelName: 'x', modelPath: '/'.padEnd(600, 'p') })).rejects.toThrow(ValueTooLongError);
    await expect(upsertModelName(em, { modelName: 'x', modelPath: '/'.padEnd(600, 'p') })).rejects.toThrow(/modelPath/);
  });
});

describe('helpers', () => {
  it('databaseEnv gives the PDR_DB_* variables that read back as the same settings', () => {
    const s = { host: 'db.example', port: 3307, user: 'grid', password: 'p w', database: 'pdr_x' };
    expect(databaseEnv(s)).toEqual({ PDR_DB_HOST: 'db.example', PDR_DB_PORT: '3307', PDR_DB_USERNAME: 'grid', PDR_DB_PASSWORD: 'p w', PDR_DB_DATABASE: 'pdr_x' });
    expect(databaseSettingsFromEnvFallback(databaseEnv(s))).toEqual(s);
  });
  it('convert times to and from UTC DATETIME(3)', () => {
    expect(toDbTime('2025-01-02T03:04:05.678+01:00')).toBe('2025-01-02 02:04:05.678');
    expect(fromDbTime('2025-01-02 02:04:05.678')).toBe('2025-01-02T02:04:05.678Z');
    expect(fromDbTime(null)).toBeNull();
    expect(() => toDbTime('yesterday', 'startedAt')).toThrow(/startedAt/);
    expect(intervalToDbTime(90_061_500)).toBe('1970-01-02 01:01:01.500');
  });

  it('keep pdr_run flags in step with the status', () => {
    expect(flagsFor('pending')).toEqual({ pending: 1, active: 0 });
    expect(flagsFor('queued')).toEqual({ pending: 1, active: 0 });
    expect(flagsFor('running')).toEqual({ pending: 0, active: 1 });
    for (const s of ['finished', 'problem', 'failed', 'skipped', 'cancelled'] as const) expect(flagsFor(s)).toEqual({ pending: 0, active: 0 });
  });

  it('classify lost connections as unavailable, other errors not', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Connection was killed'), { errno: 1927 }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('x', { cause: Object.assign(new Error('y'), { code: 'PROTOCOL_CONNECTION_LOST' }) }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Transaction query already complete, run with DEBUG=knex:tx for more info'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('dup'), { errno: 1062 }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });

  it('count placeholders the way the driver fills them, and refuse a mismatch before sending', async () => {
    expect(countPlaceholders('SELECT ? , ?? FROM t WHERE a = \\? AND b IN (?, ?)')).toBe(4);
    await expect(run(em, "UPDATE model_names SET model_description = 'why?' WHERE id = ?", [1])).rejects.toThrow(/2 placeholders but 1 values/);
  });

  it('sessions read committed rows (READ COMMITTED) and refuse values that do not fit (strict mode)', async () => {
    const r = await one<{ iso: string; mode: string }>(em, 'SELECT @@tx_isolation AS iso, @@sql_mode AS mode');
    expect(r!.iso).toBe('READ-COMMITTED');
    expect(r!.mode).toMatch(/STRICT_ALL_TABLES/);
    await expect(run(em, 'INSERT INTO users (username, email) VALUES (?, ?)', ['x'.repeat(300), 'e'])).rejects.toThrow(/too long/i);
  });

  it('time columns written through the session are UTC', async () => {
    const r = await one<{ now: string; utc: string }>(em, 'SELECT NOW(3) AS now, UTC_TIMESTAMP(3) AS utc');
    expect(Math.abs(new Date(fromDbTime(r!.now)!).getTime() - new Date(fromDbTime(r!.utc)!).getTime())).toBeLessThan(5000);
  });
});
