'use strict';
/**
 * `node reaper.js <bench pid> <state file>`: started detached by bench.js, outlives it. Once the bench
 * process is gone it reads the state file (what the bench had not cleaned up yet: service pids, NATS
 * streams, databases, the temp dir) and removes all of it (database settings from PDR_DB_*, as the bench). It exists for the deaths the bench cannot
 * handle itself (out of memory, SIGKILL); after a normal end the state file lists nothing and it just exits.
 */
const fs = require('node:fs');

const [benchPid, stateFile] = [Number(process.argv[2]), process.argv[3]];

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch {
    return null;
  }
}

/** A pid is ours only while its working directory is inside the bench's temp dir (no pid reuse accidents). */
function ours(pid, root) {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(root);
  } catch {
    return false;
  }
}

async function reap(s) {
  const pids = (s.pids || []).filter((p) => ours(p, s.root));
  for (const p of pids) process.kill(p, 'SIGTERM');
  const until = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  for (const p of pids) if (alive(p) && ours(p, s.root)) process.kill(p, 'SIGKILL');
  if ((s.streams || []).length) {
    const { connect } = require('nats');
    const nc = await connect({ servers: s.natsUrl, reconnect: false }).catch(() => null);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const st of s.streams) await jsm.streams.delete(st).catch(() => undefined);
      await nc.close();
    }
  }
  if ((s.databases || []).length) {
    const mysql = require('mysql2/promise');
    const { databaseSettingsFromEnvFallback } = require('@pdr/persistence');
    const db = databaseSettingsFromEnvFallback();
    const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password }).catch(() => null);
    if (conn) {
      for (const d of s.databases) if (/^pdr_test_[0-9a-f]+$/.test(d)) await conn.query(`DROP DATABASE IF EXISTS \`${d}\``).catch(() => undefined);
      await conn.end();
    }
  }
  if (s.root && !s.keepRoot && /pdr-bench-/.test(s.root)) fs.rmSync(s.root, { recursive: true, force: true });
  fs.rmSync(stateFile, { force: true });
}

(async () => {
  while (alive(benchPid)) await new Promise((r) => setTimeout(r, 500));
  const s = readState();
  if (s) await reap(s);
})().then(
  () => process.exit(0),
  () => process.exit(1),
);
