/**
 * packetTransaction on the real MariaDB: a packet's statements run in order in one transaction; a failing
 * statement stops its packet (nothing after it runs, COMMIT included) and the whole transaction is rolled
 * back before the connection goes back to the pool; a real deadlock between two packet transactions is
 * run again and both end committed.
 */
import { countsOf, packetTransaction, rowsOf, stmt } from './packet-transaction';
import { all, one, run } from './sql';
import { useUseCaseDb } from '../../../test/support/use-case-db';

jest.setTimeout(60_000);

const t = useUseCaseDb();

const statusOf = async (id: number) => (await one<{ status: string }>(t.em(), 'SELECT status FROM pdr_model_jobs WHERE id = ?', [id]))!.status;

/**
 * Every connection of the pool (poolMax 4), taken at once as raw driver connections (no BEGIN of our own,
 * which would end a leftover transaction): per connection whether it is inside a transaction, and the
 * session variable @pdr_after (set by a statement that must never have run).
 */
async function pooledSessions(): Promise<Array<{ inTransaction: number; after: unknown }>> {
  type Raw = { query(sql: string, cb: (err: Error | null, rows: Array<Record<string, unknown>>) => void): void };
  const client = (t.em().getConnection() as unknown as { getKnex(): { client: unknown } }).getKnex().client as unknown as {
    acquireConnection(): Promise<Raw>;
    releaseConnection(c: Raw): unknown;
  };
  const conns = await Promise.all(Array.from({ length: 4 }, () => client.acquireConnection()));
  try {
    return await Promise.all(
      conns.map(
        (c) =>
          new Promise<{ inTransaction: number; after: unknown }>((resolve, reject) =>
            c.query('SELECT @@in_transaction AS t, @pdr_after AS a', (err, rows) => (err ? reject(err) : resolve({ inTransaction: Number(rows[0].t), after: rows[0].a }))),
          ),
      ),
    );
  } finally {
    for (const c of conns) client.releaseConnection(c);
  }
}
const clean = Array.from({ length: 4 }, () => ({ inTransaction: 0, after: null }));

it('sends a packet, gives one result per statement, and commits', async () => {
  const { jobIds } = await t.grid(2);
  const res = await packetTransaction(t.em(), (tx) =>
    tx.send(
      [
        stmt(`UPDATE pdr_model_jobs SET status = 'queued' WHERE id IN (?)`, [jobIds]),
        stmt('SET @pdr_test = ROW_COUNT()'),
        stmt('SELECT id, status, @pdr_test AS changed FROM pdr_model_jobs WHERE id IN (?) ORDER BY id', [jobIds]),
      ],
      { commit: true },
    ),
  );
  expect(res).toHaveLength(3);
  expect(countsOf(res[0]).affectedRows).toBe(2);
  expect(rowsOf<{ id: number; status: string; changed: number }>(res[2]).map((r) => [r.id, r.status, Number(r.changed)])).toEqual(jobIds.map((id) => [id, 'queued', 2]));
  expect(await statusOf(jobIds[0])).toBe('queued');
  // a transaction left open by fn (no commit sent) is committed after it returns
  await packetTransaction(t.em(), async (tx) => {
    await tx.send([stmt(`UPDATE pdr_model_jobs SET status = 'running' WHERE id = ?`, [jobIds[1]])]);
  });
  expect(await statusOf(jobIds[1])).toBe('running');
  expect(() => stmt('SELECT ?', [])).toThrow('1 placeholders but 0 values');
  // what the driver's formatting reads differently from the placeholder count is refused
  expect(() => stmt('SELECT ? AS a, \\? AS b', [1])).toThrow('\\? or ???');
  expect(() => stmt('SELECT ???', [1])).toThrow('\\? or ???');
});

it('stops a packet at its failing statement and rolls the whole transaction back', async () => {
  const { jobIds } = await t.grid(3);
  const [a, b, c] = jobIds;
  const err = await packetTransaction(t.em(), async (tx) => {
    await tx.send([stmt(`UPDATE pdr_model_jobs SET status = 'queued' WHERE id = ?`, [a])]); // first packet: BEGIN + a
    await tx.send(
      [
        stmt(`UPDATE pdr_model_jobs SET status = 'running' WHERE id = ?`, [b]),
        stmt('INSERT INTO no_such_table (x) VALUES (1)'),
        stmt(`UPDATE pdr_model_jobs SET status = 'finished' WHERE id = ?`, [c]),
        stmt('SET @pdr_after = 1'), // a session variable survives a rollback: it shows whether this ran
      ],
      { commit: true },
    );
  }).catch((e: Error) => e);
  expect(String(err)).toMatch(/no_such_table/);
  // nothing of it stayed: not a's change from the first packet, not b's before the failure, not c's after
  expect([await statusOf(a), await statusOf(b), await statusOf(c)]).toEqual(['pending', 'pending', 'pending']);
  // nothing after the failing statement ran, and no pooled connection was given back inside a transaction
  expect(await pooledSessions()).toEqual(clean);

  // the driver's error comes as the ORM path gives it (MikroORM's converter: TableNotFoundException)
  expect((err as Error).name).toBe('TableNotFoundException');
  // an error thrown by fn between two packets rolls back what the first one did, and reaches the caller
  // unchanged (a use case's own error keeps its class)
  const own = new RangeError('the use case gave up');
  await expect(
    packetTransaction(t.em(), async (tx) => {
      await tx.send([stmt(`UPDATE pdr_model_jobs SET status = 'queued' WHERE id = ?`, [a])]);
      throw own;
    }),
  ).rejects.toBe(own);
  expect(await statusOf(a)).toBe('pending');
  expect(await pooledSessions()).toEqual(clean);
});

it('runs a deadlock victim again: both transactions end committed', async () => {
  const { jobIds } = await t.grid(2);
  const [x, y] = jobIds;
  let tries = 0;
  // two transactions lock x and y in opposite orders; each waits (outside MariaDB) until both hold their
  // first row, so InnoDB must pick a victim; the victim runs again and commits after the other
  let held = 0;
  const bothHold = async () => {
    held++;
    for (let i = 0; i < 200 && held < 2; i++) await new Promise((r) => setTimeout(r, 10));
  };
  const txn = (first: number, second: number, mark: string) =>
    packetTransaction(t.em(), async (tx) => {
      tries++;
      await tx.send([stmt(`UPDATE pdr_model_jobs SET reason = CONCAT(COALESCE(reason, ''), ?) WHERE id = ?`, [mark, first])]);
      await bothHold();
      await tx.send([stmt(`UPDATE pdr_model_jobs SET reason = CONCAT(COALESCE(reason, ''), ?) WHERE id = ?`, [mark, second])], { commit: true });
    });
  await Promise.all([txn(x, y, 'A'), txn(y, x, 'B')]);
  expect(tries).toBe(3); // one of the two ran twice
  const rows = await all<{ id: number; reason: string }>(t.em(), 'SELECT id, reason FROM pdr_model_jobs WHERE id IN (?, ?) ORDER BY id', [x, y]);
  // each mark exactly once on each row: the victim's first try left nothing behind
  for (const r of rows) expect([...r.reason].sort().join('')).toBe('AB');
  expect(await pooledSessions()).toEqual(clean);
  await run(t.em(), 'UPDATE pdr_model_jobs SET reason = NULL WHERE id IN (?, ?)', [x, y]);
});
