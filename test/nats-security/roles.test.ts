/**
 * deploy/nats/nats-server.conf on a real nats-server of the test's own: one user per role with the
 * permissions libs/contracts derives from its subjects. Each service runs (as a process) with its own
 * role and a grid finishes through `pdr run` with the CLI's; a runner's credentials cannot submit or
 * cancel grids nor reach state beyond the job lifecycle, the CLI's cannot claim jobs, an anonymous or
 * wrong-password connection is refused — and the password never shows in the error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { randomBytes } from 'crypto';
import { names, renderNatsServerConfig, roleInboxPrefix, rolePasswordVariable, ROLES, type Role } from '@pdr/contracts';
import { connectNats, ContractClient, NatsPermissionError } from '@pdr/messaging';
import { databaseEnv, dropDatabase } from '@pdr/persistence';
import { testDatabaseSettings } from '../support/database';
import type { NatsConnection } from 'nats';
import { reachable } from '../support/env';
import { mockGridRequest } from '../support/grid-request';
import { OwnNatsServer, Proc, startService, stopAll } from '../support/processes';
import { MOCK_BASE, pdr } from '../cli/helpers';

jest.setTimeout(180_000);

const CONF = resolve(__dirname, '../../deploy/nats/nats-server.conf');
const NS = 'pdr'; // the namespace the committed file is rendered for; the server is this test's own

it('deploy/nats/nats-server.conf is the one rendered from the contracts (npm run deploy:nats)', () => {
  expect(readFileSync(CONF, 'utf8')).toBe(renderNatsServerConfig(NS));
});

describe('nats-server with one user per role', () => {
  const db = testDatabaseSettings();
  // nats-server parses a variable's value as a config value: a password must start with a letter
  const passwords = Object.fromEntries(ROLES.map((r) => [r, `p${randomBytes(12).toString('hex')}`])) as Record<Role, string>;
  const dir = mkdtempSync(join(tmpdir(), 'pdr-nats-roles-'));
  let server: OwnNatsServer;
  const procs: Proc[] = [];
  const conns: NatsConnection[] = [];
  let skip = false;

  const settings = (role: Role | null, password?: string) => ({
    url: server.url,
    ...(role ? { user: role, password: password ?? passwords[role], inbox_prefix: roleInboxPrefix(NS, role) } : {}),
  });
  const as = async (role: Role) => {
    const nc = await connectNats({ name: `test-${role}`, reconnect: false, settings: settings(role) });
    conns.push(nc);
    return { nc, client: new ContractClient(nc, NS) };
  };
  const roleEnv = (role: Role) => ({
    PDR_NATS_URL: server.url,
    PDR_NATS_PREFIX: NS,
    PDR_NATS_USER: role,
    PDR_NATS_PASSWORD: passwords[role],
    PDR_NATS_INBOX_PREFIX: roleInboxPrefix(NS, role),
  });

  beforeAll(async () => {
    if (!OwnNatsServer.available() || !(await reachable(db.host, db.port))) {
      console.warn('NATS roles test skipped: nats-server binary or MariaDB missing');
      skip = true;
      return;
    }
    server = await OwnNatsServer.start(join(dir, 'js'), {
      config: CONF,
      env: Object.fromEntries(ROLES.map((r) => [rolePasswordVariable(r), passwords[r]])),
    });
    procs.push(await startService('state', { env: { ...roleEnv('state'), ...databaseEnv(db) } }));
    procs.push(await startService('planner', { env: roleEnv('planner') }));
    procs.push(await startService('runner', { env: roleEnv('runner'), args: ['--concurrency', '2', '--work-dir', join(dir, 'work')] }));
  });

  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await stopAll();
    await server?.stop();
    if (!skip) await dropDatabase(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a grid end to end, every service with its own role, the CLI with the config file`s nats section', async () => {
    if (skip) return;
    const cfg = join(dir, 'grid.yaml');
    writeFileSync(
      cfg,
      [
        'pdr:',
        `  base_dir: ${MOCK_BASE}`,
        '  chem_database: chem_rates_mock.dat',
        'storage:',
        `  base_dir: ${join(dir, 'storage')}`,
        'model_parameters:',
        '  dens: ["30", "40"]',
        '  chi: ["10"]',
        '  species: ["CO"]',
        'nats:',
        `  url: ${server.url}`,
        '  user: cli',
        `  password: "${passwords.cli}"`,
        `  inbox_prefix: ${roleInboxPrefix(NS, 'cli')}`,
        '',
      ].join('\n'),
    );
    const r = await pdr(['run', '--config', cfg, '--model-name', 'roles'], { env: { PDR_NATS_PREFIX: NS }, cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).not.toContain(passwords.cli);
    expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: expect.stringMatching(/finished/) });
    // no service met a permission it lacked on the way
    expect(server.proc!.output()).not.toMatch(/Violation/);
  });

  it("refuses the runner's credentials for submitting or cancelling grids and for state beyond the job lifecycle", async () => {
    if (skip) return;
    const { nc, client } = await as('runner');
    const request = mockGridRequest(MOCK_BASE, join(dir, 'storage'), { modelName: 'by-runner' });
    await expect(client.request('gridSubmit', { v: 1, request })).rejects.toBeInstanceOf(NatsPermissionError);
    await expect(client.request('plannerCancel', { v: 1, selector: { gridId: 1 }, kill: true })).rejects.toBeInstanceOf(NatsPermissionError);
    await expect(client.request('gridCancel', { v: 1, selector: { gridId: 1 }, kill: true })).rejects.toBeInstanceOf(NatsPermissionError);
    await expect(client.request('jobsQuery', { v: 1 })).rejects.toBeInstanceOf(NatsPermissionError);
    await expect(client.request('markQueued', { v: 1, jobIds: [1] })).rejects.toBeInstanceOf(NatsPermissionError);
    // publishing a job event of its own is refused too (the server says so on the connection)
    nc.publish(names(NS).jobSubject(1, 1), new Uint8Array());
    await nc.flush();
    await waitForLog(server, /Publish Violation - User "runner", Subject "pdr\.jobs\.run\.1\.1"/);
    // … and listening to state's subjects
    for (const subject of [`${NS}.state.>`, '_INBOX.>', `${roleInboxPrefix(NS, 'cli')}.>`]) {
      const sub = nc.subscribe(subject);
      await expect((async () => {
        for await (const _ of sub) break;
      })()).rejects.toThrow(/Permissions Violation for Subscription/);
    }
    // the job lifecycle it needs is allowed: state answers (an attempt that does not own job 1)
    await expect(client.request('jobHeartbeat', { v: 1, jobId: 1, attempt: 99, runnerId: 'r' })).resolves.toEqual(expect.objectContaining({ alive: false }));
    // nothing was submitted on the runner's behalf
    const cli = await as('cli');
    const list = await cli.client.request('gridList', { v: 1 });
    expect(list.grids.map((g) => g.modelName)).toEqual(['roles']);
  });

  it("refuses the CLI's credentials for claiming jobs", async () => {
    if (skip) return;
    const { nc, client } = await as('cli');
    await expect(client.request('jobClaim', { v: 1, jobId: 1, generation: 0, delivery: 1, runnerId: 'cli' })).rejects.toBeInstanceOf(NatsPermissionError);
    const n = names(NS);
    // it may read the consumer (pdr slurm scale reads the backlog), not pull from it
    const consumer = await nc.jetstream().consumers.get(n.jobStream, n.jobConsumer);
    expect((await consumer.info()).name).toBe(n.jobConsumer);
    await expect(consumer.next({ expires: 1000 }).catch(() => null)).resolves.toBeNull();
    await waitForLog(server, /Publish Violation - User "cli", Subject "\$JS\.API\.CONSUMER\.MSG\.NEXT\.PDR_JOBS\.PDR_RUNNERS"/);
  });

  it('refuses an anonymous connection and a wrong password, without showing the password', async () => {
    if (skip) return;
    await expect(connectNats({ name: 'anon', reconnect: false, settings: settings(null) })).rejects.toThrow(/refused the connection with no credentials/);
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const err = await connectNats({ name: 'bad', reconnect: false, settings: settings('runner', wrong) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('ConfigError');
    expect((err as Error).message).toMatch(/refused the connection with user "runner"/);
    expect((err as Error).message).not.toContain(wrong);
    // the CLI: one line, exit code 2, no password
    const r = await pdr(['status'], { env: { PDR_NATS_URL: server.url, PDR_NATS_PREFIX: NS, PDR_NATS_USER: 'cli', PDR_NATS_PASSWORD: wrong } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pdr: error: NATS at .* refused the connection with user "cli"/);
    expect(r.stderr).not.toContain(wrong);
  });
});

/** The server logs each refused publish or subscription with the user and the subject. */
async function waitForLog(server: OwnNatsServer, re: RegExp): Promise<void> {
  await server.proc!.waitForLine(re, 10_000);
}
