/**
 * `pdr up` killed hard (SIGKILL: it cannot stop its services itself) leaves no process behind: state,
 * planner and the runners run in process groups of their own, so they watch their IPC channel to
 * `pdr up` and stop when it closes. Real services (own database and NATS namespace). Skipped (with a
 * message) when NATS or MariaDB is not reachable.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { databaseEnv, dropDatabase } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import { deleteJobStream, NATS_URL, natsReachable, reachable, testNamespace } from '../support/env';
import { CLI, tmpDir } from './helpers';

jest.setTimeout(180_000);

/** The pids whose parent is `ppid` (from /proc). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses: split after the last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie (exited, not yet reaped by init) is not running anymore
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('pdr up killed with SIGKILL', () => {
  it('its state, planner and runners stop by themselves', async () => {
    const db = testDatabaseSettings();
    if (!(await natsReachable(NATS_URL)) || !(await reachable(db.host, db.port))) {
      console.warn(`pdr up SIGKILL test skipped: NATS (${NATS_URL}) or MariaDB (${db.host}:${db.port}) not reachable`);
      return;
    }
    const dir = tmpDir('pdr-up-kill-');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_'))) as Record<string, string>;
    const ns = testNamespace('upkill');
    const up = spawn(process.execPath, [CLI, 'up', '--runners', '2', '--work-dir', 'work'], {
      cwd: dir,
      env: { ...base, PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: ns, ...databaseEnv(db) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let services: number[] = [];
    try {
      let text = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => {
          text += d.toString();
          if (text.includes('stack is up')) resolve();
        };
        up.stdout!.on('data', onData);
        up.stderr!.on('data', onData);
        up.on('close', () => reject(new Error(`pdr up ended before the stack was up:\n${text}`)));
      });
      services = childrenOf(up.pid!);
      expect(services).toHaveLength(4); // state, planner, 2 runners
      up.kill('SIGKILL');
      // bounded wait for them to notice (not a timing assertion: any time within the bound passes)
      for (let i = 0; i < 600 && services.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
      expect(services.filter(alive)).toEqual([]);
    } finally {
      up.kill('SIGKILL');
      for (const pid of services.filter(alive)) process.kill(pid, 'SIGKILL');
      await dropDatabase(db).catch(() => undefined);
      await deleteJobStream(ns).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
