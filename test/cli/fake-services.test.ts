/**
 * The networked commands against stand-in state/planner/runner answering the contract on a NATS
 * namespace of their own: pdr run (submit, watch, summary, exit codes), status, jobs (keyset paging,
 * CSV), cancel, retry. The real services are tested by their owners; this checks what the CLI sends
 * and how it presents the answers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { connect, NatsConnection } from 'nats';
import { GridSummary, JOB_STATUSES, JobRow, JobStatus, names, StatusCounts } from '@pdr/contracts';
import { NATS_URL, natsReachable, testNamespace } from '../support/env';
import { expectOneLineError, MOCK_BASE, pdr, tmpDir } from './helpers';


const zero = (): StatusCounts => Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
const counts = (c: Partial<StatusCounts>): StatusCounts => ({ ...zero(), ...c });

function summary(gridId: number, c: StatusCounts, storage: string): GridSummary {
  return {
    gridId,
    modelName: 'fake_model',
    modelPath: path.join(storage, 'fake_model'),
    createdAt: '2025-01-01T00:00:00.000Z',
    total: Object.values(c).reduce((a, b) => a + b, 0),
    counts: c,
    firstStartedAt: null,
    lastFinishedAt: null,
    cancelRequested: false,
    seed: null,
  };
}

function job(id: number, status: JobStatus, reason: string | null = null): JobRow {
  return {
    jobId: id,
    gridId: 7,
    modelName: 'fake_model',
    jobName: `100_${id}_-10_10_00`,
    status,
    attempt: 1,
    generation: 0,
    reason,
    timeOfStart: null,
    timeOfFinish: null,
    executionMs: 1500,
    heartbeatAt: null,
    runnerId: 'r1',
    outputDirectory: `/st/fake_model/pdrgrid`,
    parameters: { zmetal: 1, xnsur: 1000 + id, mass: 0.1, sint: 10, rtot: 2.4e17, alpha: 1.5, rcore: 0.2, species: 'CO C+' },
    files: [{ role: 'hdf4', fileName: `pdr${id}.hdf`, relPath: `fake_model/pdrgrid/pdr${id}.hdf`, fullPath: `/st/fake_model/pdrgrid/pdr${id}.hdf`, size: 1, mtime: '2025-01-01T00:00:00.000Z', sha256: 'a'.repeat(64) }],
  };
}

interface Fake {
  ns: string;
  requests: { subject: string; body: Record<string, unknown> }[];
  /** gridStatus answers, one per call; the last one repeats. */
  statusSequence: StatusCounts[];
  jobs: JobRow[];
  submitError?: { code: string; message: string };
  close(): Promise<void>;
}

async function startFake(nc: NatsConnection, storage: string, opts: { runner?: boolean } = {}): Promise<Fake> {
  const ns = testNamespace('fake');
  const n = names(ns);
  const fake: Fake = { ns, requests: [], statusSequence: [counts({ queued: 6 })], jobs: [], close: async () => undefined };
  let statusCalls = 0;
  const answer = (subject: string, fn: (body: Record<string, unknown>) => unknown) =>
    nc.subscribe(subject, {
      callback: (_e, m) => {
        const body = JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
        fake.requests.push({ subject, body });
        m.respond(new TextEncoder().encode(JSON.stringify(fn(body))));
      },
    });
  const subs = [
    answer(n.rpc('healthPing'), () => ({ service: 'state', instanceId: 's1', version: 'fake', startedAt: '2025-01-01T00:00:00.000Z', detail: {} })),
    answer(n.rpc('healthPing'), () => ({ service: 'planner', instanceId: 'p1', version: 'fake', startedAt: '2025-01-01T00:00:00.000Z', detail: {} })),
    ...(opts.runner === false ? [] : [answer(n.rpc('healthPing'), () => ({ service: 'runner', instanceId: 'r1', version: 'fake', startedAt: '2025-01-01T00:00:00.000Z', detail: {} }))]),
    answer(n.rpc('gridSubmit'), () =>
      fake.submitError ? { error: fake.submitError } : { gridId: 7, modelName: 'fake_model', total: 6, created: 6, alreadyDone: 0, queued: 6, inProgress: 0, notRetried: 0, seed: null },
    ),
    answer(n.rpc('gridStatus'), () => {
      const c = fake.statusSequence[Math.min(statusCalls++, fake.statusSequence.length - 1)];
      return { grid: summary(7, c, storage) };
    }),
    answer(n.rpc('gridList'), () => ({ grids: [summary(7, counts({ finished: 5, failed: 1 }), storage), summary(3, counts({ finished: 2 }), storage)] })),
    answer(n.rpc('jobsQuery'), (b) => {
      const after = (b.afterId as number) ?? 0;
      const limit = (b.limit as number) ?? 100;
      const statuses = b.status as string[] | undefined;
      const matching = fake.jobs.filter((j) => j.jobId > after && (!statuses || statuses.includes(j.status)));
      const page = matching.slice(0, limit).map((j) => ({ ...j, parameters: b.withParameters ? j.parameters : undefined, files: b.withFiles ? j.files : undefined }));
      return { jobs: page, nextAfterId: matching.length > limit ? page[page.length - 1].jobId : null };
    }),
    answer(n.rpc('plannerCancel'), () => ({ gridId: 7, cancelled: 4, runningFlagged: 2 })),
    answer(n.rpc('plannerRetry'), () => ({ gridId: 7, queued: 1 })),
  ];
  await nc.flush();
  fake.close = async () => {
    for (const s of subs) s.unsubscribe();
    await nc.flush();
  };
  return fake;
}

describe('networked commands against stand-in services', () => {
  let nc: NatsConnection | null = null;
  let dir: string;
  let cfg: string;
  let fake: Fake;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!(await natsReachable(NATS_URL))) {
      console.warn(`stand-in service tests skipped: no NATS at ${NATS_URL}`);
      return;
    }
    nc = await connect({ servers: NATS_URL });
    dir = tmpDir('pdr-cli-fake-');
    cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(
      cfg,
      `pdr:\n  model_name: fake_model\n  base_dir: ${MOCK_BASE}\n  chem_database: chem_rates_mock.dat\nstorage:\n  base_dir: st\nmodel_parameters:\n  dens: ["30", "40", "50"]\n  chi: ["10", "20"]\n  species: ["CO", "C+"]\n`,
    );
  });
  beforeEach(async () => {
    if (!nc) return;
    fake = await startFake(nc, path.join(dir, 'st'));
    env = { PDR_NATS_URL: NATS_URL, PDR_NATS_PREFIX: fake.ns };
  });
  afterEach(async () => {
    if (nc) await fake.close();
  });
  afterAll(async () => {
    if (nc) {
      await nc.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pdr run submits the contract request, follows to the end, exits 1 when a point failed', async () => {
    if (!nc) return;
    fake.statusSequence = [counts({ queued: 6 }), counts({ running: 2, queued: 4 }), counts({ finished: 3, running: 2, queued: 1 }), counts({ finished: 5, failed: 1 })];
    fake.jobs = [job(1, 'finished'), job(2, 'failed', 'mockpdr exited with code 3'), job(3, 'finished')];
    const r = await pdr(['run', '--config', cfg, '--force-onion', '--pdr-timeout', '60'], { env, cwd: dir });
    expect(r.code).toBe(1);
    const submit = fake.requests.find((q) => q.subject.endsWith('planner.grid.submit'))!.body as { request: Record<string, unknown>; maxPoints: number; retryFailed: boolean };
    expect(submit.maxPoints).toBe(100000);
    expect(submit.retryFailed).toBe(false);
    expect(submit.request).toMatchObject({
      modelName: 'fake_model',
      axes: { metal: ['100'], dens: ['30', '40', '50'], mass: ['-10'], chi: ['10', '20'] },
      mode: 'grid',
      random: null,
      onionSpecies: ['CO', 'C+'],
      physics: { alpha: 1.5, rcore: 0.2, nonDefault: {} },
      run: {
        baseDir: MOCK_BASE,
        pdrFileName: 'mockpdr',
        onionFileName: 'mockonion',
        chemDatabase: 'chem_rates_mock.dat',
        jsonTemplateOverride: null,
        storage: { type: 'local', baseDir: path.join(dir, 'st') },
        forceOnion: true,
        keepTmp: false,
        timeouts: { pdrMs: 60000, onionMs: 7200000 },
      },
    });
    expect(r.stdout).toMatch(/^grid 7 \(model fake_model\): 6 point\(s\): 6 new, 6 queued$/m);
    expect(r.stdout).toContain(`storage: ${path.join(dir, 'st', 'fake_model')}`);
    expect(r.stdout).toMatch(/^finished\s+5$/m);
    expect(r.stdout).toMatch(/^failed\s+1$/m);
    expect(r.stdout).toMatch(/^total\s+6$/m);
    expect(r.stdout).toMatch(/100_2_-10_10_00\s+failed\s+1\s+mockpdr exited with code 3/);
    expect(r.stdout).not.toMatch(/100_1_-10_10_00/);
    expect(fake.requests.filter((q) => q.subject.endsWith('state.grid.status')).length).toBeGreaterThanOrEqual(4);
  });

  it('pdr run exits 0 when every point finished or was skipped', async () => {
    if (!nc) return;
    fake.statusSequence = [counts({ finished: 4, skipped: 2 })];
    const r = await pdr(['run', '--config', cfg], { env, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('pdr run --detach returns after submitting', async () => {
    if (!nc) return;
    const r = await pdr(['run', '--config', cfg, '--detach', '--retry-failed'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pdr status 7/);
    expect(fake.requests.some((q) => q.subject.endsWith('state.grid.status'))).toBe(false);
    expect((fake.requests.find((q) => q.subject.endsWith('planner.grid.submit'))!.body as { retryFailed: boolean }).retryFailed).toBe(true);
  });

  it('a BAD_REQUEST answer of the planner is one line, exit 2', async () => {
    if (!nc) return;
    fake.submitError = { code: 'BAD_REQUEST', message: 'invalid grid: something the planner disliked' };
    expectOneLineError(await pdr(['run', '--config', cfg], { env, cwd: dir }), 2, /something the planner disliked/);
  });

  it('pdr status lists grids; pdr status <id> shows counts and the storage path', async () => {
    if (!nc) return;
    const list = await pdr(['status'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^\s+7\s+fake_model\s+\S+ \S+\s+-\s+6\s+5\s+0\s+1\s+0\s+0\s+0$/m);
    fake.statusSequence = [counts({ finished: 5, failed: 1 })];
    const one = await pdr(['status', 'fake_model'], { env });
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`storage: ${path.join(dir, 'st', 'fake_model')}`);
    const sel = fake.requests.filter((q) => q.subject.endsWith('state.grid.status')).pop()!.body as { selector: unknown };
    expect(sel.selector).toEqual({ modelName: 'fake_model' });
  });

  it('pdr jobs --csv pages through every job (keyset afterId) with parameters and output paths', async () => {
    if (!nc) return;
    fake.jobs = Array.from({ length: 2345 }, (_, i) => job(i + 1, i % 100 === 0 ? 'failed' : 'finished'));
    const r = await pdr(['jobs', '--grid', '7', '--csv'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2346);
    const header = lines[0].split(',');
    expect(header.slice(0, 5)).toEqual(['job_id', 'grid_id', 'model_name', 'job_name', 'status']);
    for (const c of ['zmetal', 'xnsur', 'mass', 'sint', 'rtot', 'output_directory', 'files']) expect(header).toContain(c);
    const last = lines[2345].split(',');
    expect(last[0]).toBe('2345');
    expect(last[header.indexOf('xnsur')]).toBe(String(1000 + 2345));
    expect(last[header.indexOf('files')]).toBe('/st/fake_model/pdrgrid/pdr2345.hdf');
    const queries = fake.requests.filter((q) => q.subject.endsWith('state.jobs.query')).map((q) => q.body as { afterId: number; gridId: number });
    expect(queries.map((q) => q.afterId)).toEqual([0, 1000, 2000]);
    expect(queries.every((q) => q.gridId === 7)).toBe(true);
  });

  it('pdr jobs --status and --limit filter; the table shows reasons', async () => {
    if (!nc) return;
    fake.jobs = [job(1, 'finished'), job(2, 'failed', 'no ONION3.INP.CO'), job(3, 'problem', 'exit 2'), job(4, 'failed', 'storage full')];
    const r = await pdr(['jobs', '--status', 'failed,problem', '--limit', '2'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/100_2_-10_10_00\s+failed.*no ONION3\.INP\.CO/);
    expect(r.stdout).toMatch(/100_3_-10_10_00\s+problem/);
    expect(r.stdout).not.toMatch(/100_4_/);
  });

  it('pdr cancel --kill and pdr retry talk to the planner', async () => {
    if (!nc) return;
    const c = await pdr(['cancel', '7', '--kill'], { env });
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/4 waiting point\(s\) cancelled/);
    expect(c.stdout).toMatch(/2 running point\(s\) are being killed/);
    expect(fake.requests.find((q) => q.subject.endsWith('planner.grid.cancel'))!.body).toMatchObject({ selector: { gridId: 7 }, kill: true });
    const r = await pdr(['retry', 'fake_model'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 point\(s\) queued again/);
    expect(fake.requests.find((q) => q.subject.endsWith('planner.grid.retry'))!.body).toMatchObject({ selector: { modelName: 'fake_model' }, includeCancelled: false });
  });

  it('pdr health lists every instance and exits 0', async () => {
    if (!nc) return;
    const r = await pdr(['health'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^state\s+s1\s+fake/m);
    expect(r.stdout).toMatch(/^planner\s+p1/m);
    expect(r.stdout).toMatch(/^runner\s+r1/m);
  });
});
