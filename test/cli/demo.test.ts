/**
 * `npm run demo` (deploy/demo/demo.js) uses PDR_NATS_PREFIX and PDR_DB_DATABASE when they are set (here:
 * a test namespace and a test database, removed afterwards); otherwise names of its checkout (a hash of
 * its path), so two checkouts' demos never share a namespace or a database. Skipped (with a message)
 * when NATS or MariaDB is not reachable.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { names } from '@pdr/contracts';
import { connectNats } from '@pdr/messaging';
import { databaseEnv, dropDatabase } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { NATS_URL, natsReachable, reachable, testNamespace } from '../support/env';
import { REPO } from './helpers';

jest.setTimeout(240_000);

describe('npm run demo', () => {
  it('runs in the namespace and database it is given, and names them after its checkout otherwise', async () => {
    const db = testDatabaseSettings();
    if (!(await natsReachable(NATS_URL)) || !(await reachable(db.host, db.port))) {
      console.warn(`demo test skipped: NATS (${NATS_URL}) or MariaDB (${db.host}:${db.port}) not reachable`);
      return;
    }
    const ns = testNamespace('demo');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_'))) as Record<string, string>;
    try {
      const r = spawnSync(process.execPath, [path.join(REPO, 'deploy/demo/demo.js'), '--no-build'], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...base, PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: ns, ...databaseEnv(db) },
        timeout: 200_000,
      });
      expect({ status: r.status, tail: r.stdout.slice(-300) }).toEqual({ status: 0, tail: expect.stringContaining('done: every point finished') });
      expect(r.stdout).toContain(`demo: NATS namespace ${ns}, database ${db.database} `);
      // the stack really used them: the grid is in that database (state created it there)
      const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
      const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
      try {
        const [rows] = await conn.query('SELECT COUNT(*) AS n FROM grids');
        expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(1);
      } finally {
        await conn.end();
      }
      // its outputs (.pdr-demo/ is git-ignored; this run's model directory goes)
      const model = /^demo: outputs: .* in (\.pdr-demo\/storage\/demo_\d+_\d+)\//m.exec(r.stdout)?.[1];
      if (model) fs.rmSync(path.join(REPO, model), { recursive: true, force: true });
    } finally {
      await dropDatabase(db).catch(() => undefined);
      const nc = await connectNats({ url: NATS_URL, name: 'demo-test', reconnect: false });
      await (await nc.jetstreamManager()).streams.delete(names(ns).jobStream).catch(() => undefined);
      await nc.close();
    }
    // without them: names of the checkout (two copies of the demo → two names). NATS is pointed at a closed
    // port so each copy stops right after saying its names (exit 3), creating nothing.
    const other = fs.mkdtempSync(path.join(require('os').tmpdir(), 'pdr-checkout-'));
    try {
      fs.mkdirSync(path.join(other, 'deploy', 'demo'), { recursive: true });
      fs.copyFileSync(path.join(REPO, 'deploy/demo/demo.js'), path.join(other, 'deploy/demo/demo.js'));
      const namesOf = (repo: string) => {
        const r = spawnSync(process.execPath, [path.join(repo, 'deploy/demo/demo.js'), '--no-build'], {
          cwd: repo,
          encoding: 'utf8',
          env: { ...base, PDR_NATS_URL: 'nats://127.0.0.1:9', ...databaseEnv({ ...db, database: 'unused' }), PDR_DB_DATABASE: '' },
        });
        return /^demo: NATS namespace (\S+), database (\S+) /m.exec(r.stdout)?.slice(1) ?? [r.stdout, r.stderr];
      };
      const hash = (repo: string) => createHash('sha256').update(repo).digest('hex').slice(0, 8);
      const here = namesOf(REPO);
      const there = namesOf(other);
      expect(here).toEqual([`pdrdemo${hash(REPO)}`, `pdr_demo_${hash(REPO)}`]);
      expect(there).toEqual([`pdrdemo${hash(other)}`, `pdr_demo_${hash(other)}`]);
      expect(here[0]).not.toBe(there[0]);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
