/**
 * A database that goes away is answered with UNAVAILABLE (callers retry), never INTERNAL or a crash,
 * and the service recovers when it returns: killed connections (KILL from another session) and a
 * server that is unreachable for a while (a TCP proxy in front of MariaDB, closed and reopened).
 */
import * as net from 'net';
import { all, createOrm, Em, run } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { gridRequest, Harness, startHarness } from './helpers';

jest.setTimeout(120_000);

function codeOf(reply: unknown): string | undefined {
  return (reply as { error?: { code?: string } }).error?.code;
}

/** Sends gridList until it succeeds; returns the error codes seen before. */
async function untilAnswered(h: Harness, maxTries = 50): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < maxTries; i++) {
    const reply = await h.raw('gridList', { v: 1 });
    const code = codeOf(reply);
    if (code === undefined) return codes;
    codes.push(code);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no successful answer in ${maxTries} tries: ${codes.join(', ')}`);
}

describe('connections killed from another session', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ poolMax: 4 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers UNAVAILABLE or normally meanwhile, and works again afterwards', async () => {
    await Promise.all(Array.from({ length: 8 }, () => h.client.request('gridUpsert', gridRequest('before-kill'))));
    const admin = await createOrm({ ...h.db, database: 'information_schema' }, { poolMax: 1 });
    try {
      const em = admin.em.fork() as Em;
      const victims = await all<{ id: number }>(em, 'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [h.db.database]);
      expect(victims.length).toBeGreaterThan(0);
      for (const v of victims) await run(em, `KILL CONNECTION ${Number(v.id)}`).catch(() => undefined);
    } finally {
      await admin.close(true);
    }
    const codes = await untilAnswered(h);
    expect(codes.every((c) => c === 'UNAVAILABLE')).toBe(true);
    const after = await h.client.request('gridUpsert', gridRequest('after-kill'));
    expect(after.created).toBe(true);
  });
});

describe('database unreachable for a while', () => {
  const target = testDatabaseSettings();
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  let h: Harness;

  function openProxy(): Promise<void> {
    server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    return new Promise((resolve) => server.listen(port, '127.0.0.1', () => ((port = (server.address() as net.AddressInfo).port), resolve())));
  }

  function closeProxy(): Promise<void> {
    for (const s of sockets) s.destroy();
    sockets.clear();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  beforeAll(async () => {
    await openProxy();
    h = await startHarness({ db: { ...target, host: '127.0.0.1', port } });
  });
  afterAll(async () => {
    if (!server.listening) await openProxy();
    await h?.close();
    await closeProxy();
  });

  it('answers UNAVAILABLE while the database is down and recovers when it is back', async () => {
    await h.client.request('gridUpsert', gridRequest('before-outage'));
    await closeProxy();
    const down = await Promise.all([h.raw('gridList', { v: 1 }), h.raw('gridUpsert', gridRequest('during-outage')), h.raw('jobGet', { v: 1, jobId: 1 })]);
    expect(down.map(codeOf)).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE']);
    expect(JSON.stringify(down)).not.toMatch(/password|127\.0\.0\.1/);
    await openProxy();
    const codes = await untilAnswered(h);
    expect(codes.every((c) => c === 'UNAVAILABLE')).toBe(true);
    expect((await h.client.request('gridUpsert', gridRequest('after-outage'))).created).toBe(true);
  });
});
