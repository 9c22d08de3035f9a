/**
 * The global setup's policy without services or Docker: which services are missing → nothing / start
 * containers / fail with a message. testcontainers itself must not be loaded by importing the module.
 */
jest.mock('testcontainers', () => {
  throw new Error('testcontainers was loaded eagerly');
});

import { decide, dockerHinted, setupServices, Service, Started, targetsOf } from './global-setup';

const DEFAULTS = targetsOf({});

describe('targetsOf', () => {
  it('defaults to the local services, explicit when a variable is set', () => {
    expect(DEFAULTS).toEqual({
      nats: { url: 'nats://127.0.0.1:4222', host: '127.0.0.1', port: 4222, explicit: false },
      db: { host: '127.0.0.1', port: 3306, explicit: false },
    });
    const t = targetsOf({ PDR_NATS_URL: 'nats://n.example:5222', PDR_DB_PORT: '3307' });
    expect(t.nats).toMatchObject({ host: 'n.example', port: 5222, explicit: true });
    expect(t.db).toEqual({ host: '127.0.0.1', port: 3307, explicit: true });
  });
  it('names a malformed variable', () => {
    expect(() => targetsOf({ PDR_NATS_URL: 'not a url' })).toThrow(/PDR_NATS_URL "not a url"/);
    expect(() => targetsOf({ PDR_DB_PORT: '33o6' })).toThrow(/PDR_DB_PORT "33o6"/);
  });
});

describe('decide', () => {
  const up = (nats: boolean, db: boolean) => ({ nats, db });

  it('both services answer → nothing, whatever Docker is', () => {
    expect(decide(DEFAULTS, up(true, true), false)).toEqual({ action: 'none' });
    expect(decide(DEFAULTS, up(true, true), true)).toEqual({ action: 'none' });
  });

  it('missing services + Docker → start exactly those', () => {
    expect(decide(DEFAULTS, up(false, true), true)).toEqual({ action: 'start', services: ['nats'] });
    expect(decide(DEFAULTS, up(true, false), true)).toEqual({ action: 'start', services: ['db'] });
    expect(decide(DEFAULTS, up(false, false), true)).toEqual({ action: 'start', services: ['nats', 'db'] });
  });

  it('missing services without Docker → one message naming them and the commands for them only', () => {
    const both = decide(DEFAULTS, up(false, false), false);
    expect(both.action).toBe('fail');
    const m = (both as { message: string }).message;
    expect(m.split('\n')[0]).toBe(
      'test services missing: NATS with JetStream (nats://127.0.0.1:4222) and MariaDB/MySQL (127.0.0.1:3306) are not reachable and no Docker engine was found for testcontainers (DOCKER_HOST, /var/run/docker.sock).',
    );
    expect(m).toContain('apt-get install -y nats-server mariadb-server');
    expect(m).toContain('--exec /usr/sbin/mariadbd');
    expect(m).toContain('--exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js');

    const natsOnly = (decide(DEFAULTS, up(false, true), false) as { message: string }).message;
    expect(natsOnly.split('\n')[0]).toMatch(/^test services missing: NATS with JetStream \(nats:\/\/127\.0\.0\.1:4222\) is not reachable/);
    expect(natsOnly).toContain('apt-get install -y nats-server\n');
    expect(natsOnly).not.toContain('mariadb');
  });

  it('an explicitly configured service is never replaced by a container', () => {
    const t = targetsOf({ PDR_DB_HOST: 'db.example' });
    const d = decide(t, up(true, false), true);
    expect(d.action).toBe('fail');
    expect((d as { message: string }).message).toMatch(/MariaDB\/MySQL \(db\.example:3306, from PDR_DB_HOST\/PDR_DB_PORT\) is not reachable; .*unset PDR_DB_HOST\/PDR_DB_PORT/);
  });
});

describe('dockerHinted', () => {
  const none = () => false;
  it('DOCKER_HOST or a known socket hints at Docker; nothing → false without any import', () => {
    expect(dockerHinted({ DOCKER_HOST: 'tcp://h:2375' }, none, '/home/u')).toBe(true);
    expect(dockerHinted({}, (p) => p === '/var/run/docker.sock', '/home/u')).toBe(true);
    expect(dockerHinted({}, (p) => p === '/home/u/.docker/run/docker.sock', '/home/u')).toBe(true);
    expect(dockerHinted({ XDG_RUNTIME_DIR: '/run/user/1000' }, (p) => p === '/run/user/1000/docker.sock', '/home/u')).toBe(true);
    expect(dockerHinted({}, none, '/home/u')).toBe(false);
  });
});

describe('setupServices', () => {
  function deps(reach: Record<string, boolean>, docker: boolean, env: NodeJS.ProcessEnv = {}) {
    const calls = { docker: 0, start: [] as Service[][] };
    const started: Started = { env: { PDR_NATS_URL: 'nats://localhost:49153' }, containers: [] };
    return {
      calls,
      env,
      d: {
        env,
        reachable: async (host: string, port: number) => reach[`${host}:${port}`] ?? false,
        docker: async () => {
          calls.docker += 1;
          return docker;
        },
        start: async (s: Service[]) => {
          calls.start.push(s);
          return started;
        },
        log: () => undefined,
      },
    };
  }

  it('fast path: both reachable → no Docker probe, no container, env untouched', async () => {
    const x = deps({ '127.0.0.1:4222': true, '127.0.0.1:3306': true }, true);
    expect(await setupServices(x.d)).toBeNull();
    expect(x.calls).toEqual({ docker: 0, start: [] });
    expect(x.env).toEqual({});
  });

  it('NATS missing + Docker → starts NATS only and exports its URL for the workers', async () => {
    const x = deps({ '127.0.0.1:3306': true }, true);
    await setupServices(x.d);
    expect(x.calls).toEqual({ docker: 1, start: [['nats']] });
    expect(x.env.PDR_NATS_URL).toBe('nats://localhost:49153');
  });

  it('nothing reachable and no Docker → rejects with the message, starts nothing', async () => {
    const x = deps({}, false);
    await expect(setupServices(x.d)).rejects.toThrow(/^test services missing: NATS .* and MariaDB/);
    expect(x.calls.start).toEqual([]);
  });

  it('PDR_TEST_SERVICES=skip probes nothing', async () => {
    const x = deps({}, false, { PDR_TEST_SERVICES: 'skip' });
    expect(await setupServices(x.d)).toBeNull();
    expect(x.calls.docker).toBe(0);
  });
});
