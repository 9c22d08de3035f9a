/**
 * Jest global setup: the test services are there before any test worker starts.
 *
 * 1. Targets as the tests read them: PDR_NATS_URL (default nats://127.0.0.1:4222) and
 *    PDR_DB_HOST / PDR_DB_PORT (default 127.0.0.1:3306, user root, empty password).
 * 2. Both accept a TCP connection within 1 s → nothing to do (the normal case: local services, CI).
 * 3. One is missing and a Docker engine answers → testcontainers 11 starts what is missing
 *    (nats:2.10 -js, mariadb:10.11 with an empty root password), waits until it is ready and sets
 *    PDR_NATS_URL, or PDR_DB_HOST / PDR_DB_PORT / PDR_DB_USERNAME / PDR_DB_PASSWORD, in process.env.
 *    Jest starts the workers after this function returns, so they inherit them. global-teardown.ts
 *    stops the containers. testcontainers is imported only on this path (`await import`), so normal
 *    runs never load it; the Docker probe looks at DOCKER_HOST and the usual sockets first.
 *    A service whose variable was set explicitly is never replaced: it is reported instead.
 * 4. Otherwise the run fails at once with one message naming what is missing and how to start it.
 * PDR_TEST_SERVICES=skip skips all of this (unit specs only; service tests then skip or fail on their own).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { StartedTestContainer } from 'testcontainers';
import { reachable } from './env';

export type Service = 'nats' | 'db';

export interface Targets {
  nats: { url: string; host: string; port: number; explicit: boolean };
  db: { host: string; port: number; explicit: boolean };
}

export type Decision =
  | { action: 'none' }
  | { action: 'start'; services: Service[] }
  | { action: 'fail'; message: string };

/** Environment → the endpoints the tests will use; a malformed value is an error naming the variable. */
export function targetsOf(env: NodeJS.ProcessEnv): Targets {
  const url = env.PDR_NATS_URL || 'nats://127.0.0.1:4222';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`PDR_NATS_URL "${url}" is not a URL (expected nats://host:port)`);
  }
  const port = env.PDR_DB_PORT || '3306';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new Error(`PDR_DB_PORT "${port}" is not a TCP port`);
  return {
    nats: { url, host: u.hostname, port: Number(u.port || 4222), explicit: Boolean(env.PDR_NATS_URL) },
    db: { host: env.PDR_DB_HOST || '127.0.0.1', port: Number(port), explicit: Boolean(env.PDR_DB_HOST || env.PDR_DB_PORT) },
  };
}

const HOW_TO_START: Record<Service, string[]> = {
  db: [
    'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    `mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket"`,
  ],
  nats: ['start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server'],
};

function describeService(s: Service, t: Targets): string {
  return s === 'nats' ? `NATS with JetStream (${t.nats.url}${t.nats.explicit ? ', from PDR_NATS_URL' : ''})` : `MariaDB/MySQL (${t.db.host}:${t.db.port}${t.db.explicit ? ', from PDR_DB_HOST/PDR_DB_PORT' : ''})`;
}

/**
 * What to do, from which services answered and whether a Docker engine is there (`docker` is only
 * consulted when something is missing). Pure: the whole policy of the global setup.
 */
export function decide(t: Targets, up: Record<Service, boolean>, docker: boolean): Decision {
  const missing = (['nats', 'db'] as const).filter((s) => !up[s]);
  if (missing.length === 0) return { action: 'none' };
  const explicit = missing.filter((s) => t[s].explicit);
  if (explicit.length === 0 && docker) return { action: 'start', services: missing };
  const what = missing.map((s) => describeService(s, t)).join(' and ');
  const why =
    explicit.length > 0
      ? `not reachable; it was set explicitly, so no container replaces it: start it there, or unset ${explicit.map((s) => (s === 'nats' ? 'PDR_NATS_URL' : 'PDR_DB_HOST/PDR_DB_PORT')).join(' and ')}`
      : 'not reachable and no Docker engine was found for testcontainers (DOCKER_HOST, /var/run/docker.sock)';
  const commands = missing.filter((s) => !t[s].explicit).flatMap((s) => HOW_TO_START[s]);
  const lines = [`test services missing: ${what} ${missing.length > 1 ? 'are' : 'is'} ${why}.`];
  if (commands.length > 0) {
    lines.push(
      'Start them locally (Debian, as root; see README.md):',
      `  apt-get update && apt-get install -y ${missing.filter((s) => !t[s].explicit).map((s) => (s === 'db' ? 'mariadb-server' : 'nats-server')).join(' ')}`,
      ...commands.map((c) => `  ${c}`),
      'or start a Docker engine (testcontainers then starts them), or point PDR_NATS_URL / PDR_DB_HOST, PDR_DB_PORT, PDR_DB_USERNAME, PDR_DB_PASSWORD at running servers.',
    );
  }
  lines.push('PDR_TEST_SERVICES=skip runs the tests without this check (tests that need a service then skip or fail).');
  return { action: 'fail', message: lines.join('\n') };
}

/** Cheap hint that a Docker engine may exist (no import, no connection): DOCKER_HOST, a known socket, testcontainers' properties file. */
export function dockerHinted(env: NodeJS.ProcessEnv, exists: (p: string) => boolean = fs.existsSync, home = os.homedir()): boolean {
  if (env.DOCKER_HOST) return true;
  const candidates = ['/var/run/docker.sock', path.join(home, '.docker', 'run', 'docker.sock'), path.join(home, '.testcontainers.properties')];
  if (env.XDG_RUNTIME_DIR) candidates.push(path.join(env.XDG_RUNTIME_DIR, 'docker.sock'));
  return candidates.some((p) => exists(p));
}

/** Docker engine reachable: the cheap hint first, then testcontainers' own client (lazily imported). */
async function dockerReachable(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!dockerHinted(env)) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** Key of the started containers on globalThis (jest shares it between globalSetup and globalTeardown). */
export const CONTAINERS_KEY = '__pdrTestContainers';

export interface Started {
  env: Record<string, string>;
  containers: { stop(): Promise<unknown> }[];
}

/** Starts the missing services with testcontainers; only path that loads it. Not runnable without Docker. */
async function startContainers(services: Service[]): Promise<Started> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const containers: StartedTestContainer[] = [];
  const env: Record<string, string> = {};
  const start = async (s: Service): Promise<void> => {
    if (s === 'nats') {
      const c = await new GenericContainer('nats:2.10').withCommand(['-js']).withExposedPorts(4222).withWaitStrategy(Wait.forLogMessage(/Server is ready/)).start();
      containers.push(c);
      env.PDR_NATS_URL = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
    } else {
      const c = await new GenericContainer('mariadb:10.11')
        .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_ROOT_HOST: '%' })
        .withExposedPorts(3306)
        // the entrypoint's temporary server says it once, the real one a second time
        .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(), Wait.forLogMessage(/ready for connections/, 2)]))
        .start();
      containers.push(c);
      Object.assign(env, { PDR_DB_HOST: c.getHost(), PDR_DB_PORT: String(c.getMappedPort(3306)), PDR_DB_USERNAME: 'root', PDR_DB_PASSWORD: '' });
    }
  };
  const results = await Promise.allSettled(services.map(start));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(containers.map((c) => c.stop()));
    throw new Error(`testcontainers could not start ${services.join(' and ')}: ${(failed.reason as Error)?.message ?? String(failed.reason)}`);
  }
  return { env, containers };
}

export interface SetupDeps {
  env: NodeJS.ProcessEnv;
  reachable: (host: string, port: number) => Promise<boolean>;
  docker: (env: NodeJS.ProcessEnv) => Promise<boolean>;
  start: (services: Service[]) => Promise<Started>;
  log: (line: string) => void;
}

/** The global setup with its probes injectable (the spec drives it without services or Docker). Returns what it started. */
export async function setupServices(d: SetupDeps): Promise<Started | null> {
  if (d.env.PDR_TEST_SERVICES === 'skip') return null;
  const t = targetsOf(d.env);
  const [nats, db] = await Promise.all([d.reachable(t.nats.host, t.nats.port), d.reachable(t.db.host, t.db.port)]);
  const up = { nats, db };
  const needsDocker = !nats || !db;
  const decision = decide(t, up, needsDocker && (await d.docker(d.env)));
  if (decision.action === 'none') return null;
  if (decision.action === 'fail') {
    const err = new Error(decision.message);
    err.stack = decision.message; // jest prints the stack: the message alone is the useful part
    throw err;
  }
  d.log(`global setup: starting ${decision.services.join(' and ')} with testcontainers (no local service answered)`);
  const started = await d.start(decision.services);
  Object.assign(d.env, started.env);
  d.log(`global setup: ${Object.entries(started.env).filter(([k]) => k !== 'PDR_DB_PASSWORD').map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return started;
}

export default async function globalSetup(): Promise<void> {
  const started = await setupServices({
    env: process.env,
    reachable,
    docker: dockerReachable,
    start: startContainers,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  (globalThis as Record<string, unknown>)[CONTAINERS_KEY] = started?.containers ?? [];
}
