/**
 * The state service over real NATS and MariaDB: every state.* subject answers a valid request with a
 * reply that parses with the contract's reply schema, and bad input with `{error:{code,...}}`.
 */
import { RequestContext } from '@mikro-orm/core';
import { JOB_STATUSES, names, progressEvent, ProgressEvent, RPC, RpcName } from '@pdr/contracts';
import { buildParameterRow } from '@pdr/domain';
import { collectHealth, decodeJson } from '@pdr/messaging';
import { all, one, PdrModelJob, run } from '@pdr/persistence';
import { gridRequest, Harness, points, sha, useHarness } from './helpers';

jest.setTimeout(120_000);

let h: Harness;
useHarness((started) => (h = started));

const STATE_RPCS = (Object.keys(RPC) as RpcName[]).filter((n) => RPC[n].answeredBy === 'state');

function errorCode(reply: unknown): string | undefined {
  return (reply as { error?: { code?: string } }).error?.code;
}

const file = (role: string, fileName: string, size = 10) => ({
  role,
  fileName,
  relPath: `contract/pdrgrid/${fileName}`,
  fullPath: `/storage/contract/pdrgrid/${fileName}`,
  size,
  mtime: '2025-03-01T10:00:00.000Z',
  sha256: sha(fileName),
});

describe('every state.* subject with a valid request', () => {
  const answered = new Set<RpcName>();
  let gridId: number;
  let jobIds: number[];

  afterAll(() => {
    // the walk below must have covered every subject the contract assigns to state
    expect([...answered].sort()).toEqual([...STATE_RPCS].sort());
  });

  it('walks a grid through its life, each reply parsing with its reply schema', async () => {
    const progress: ProgressEvent[] = [];
    const sub = h.nc.subscribe(names(h.ns).progress('*'), { callback: (_e, m) => progress.push(progressEvent.parse(decodeJson(m.data))) });
    const call = async <N extends RpcName>(name: N, payload: Parameters<Harness['call']>[1]) => {
      answered.add(name);
      return h.call(name, payload as never) as never;
    };

    const grid: { gridId: number; created: boolean; modelNameId: number; installationId: string } = await call('gridUpsert', gridRequest('contract', { pointCount: 4 }));
    expect(grid.created).toBe(true);
    gridId = grid.gridId;
    const again: { gridId: number; created: boolean } = await call('gridUpsert', gridRequest('contract', { pointCount: 4 }));
    expect(again).toMatchObject({ gridId, created: false });

    const pts = points(3);
    const up: { jobs: [number, string, number, boolean][] } = await call('pointsUpsert', { v: 1, gridId, points: [...pts, pts[0]] });
    expect(up.jobs.map((j) => j[1])).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(up.jobs.map((j) => j[3])).toEqual([true, true, true, true]);
    expect(up.jobs[3][0]).toBe(up.jobs[0][0]); // same point, same job
    jobIds = up.jobs.slice(0, 3).map((j) => j[0]);
    const up2: { jobs: [number, string, number, boolean][] } = await call('pointsUpsert', { v: 1, gridId, points: pts });
    expect(up2.jobs).toEqual(up.jobs.slice(0, 3).map(([id, s, g]) => [id, s, g, false]));

    expect(await call('markQueued', { v: 1, jobIds })).toEqual({ updated: 3 });
    expect(await call('markQueued', { v: 1, jobIds })).toEqual({ updated: 0 });

    const claim: { granted: boolean; job: { attempt: number; parameters: Record<string, unknown>; onionSpecies: string[]; jobName: string; run: unknown } } =
      await call('jobClaim', { v: 1, jobId: jobIds[0], generation: 0, delivery: 1, runnerId: 'r1' });
    expect(claim.granted).toBe(true);
    expect(claim.job.attempt).toBe(1);
    expect(claim.job.jobName).toBe(`${pts[0].join('_')}_00`);
    expect(claim.job.onionSpecies).toEqual(['CO', 'C+']);
    expect(claim.job.run).toEqual(gridRequest('contract').run && expect.objectContaining({ baseDir: '/base', pdrFileName: 'mockpdr' }));
    // the parameter row round-trips through DOUBLE columns bit for bit
    const [metal, dens, mass, chi] = pts[0];
    const g = gridRequest('contract').physics;
    expect(claim.job.parameters).toEqual({ ...buildParameterRow({ point: { metal, dens, mass, chi }, alpha: g.alpha, rcore: g.rcore, chemistry: g.chemistry, nonDefault: g.nonDefault }) });
    const lost: { granted: boolean; reason: string; status: string } = await call('jobClaim', { v: 1, jobId: jobIds[0], generation: 0, delivery: 2, runnerId: 'r2' });
    expect(lost).toMatchObject({ granted: false, status: 'running' });

    expect(await call('jobHeartbeat', { v: 1, jobId: jobIds[0], attempt: 1, runnerId: 'r1' })).toEqual({ alive: true, cancel: false });
    expect(await call('jobsHeartbeat', { v: 1, runnerId: 'r1', attempts: [{ jobId: jobIds[0], attempt: 1 }] })).toEqual({ jobs: [{ jobId: jobIds[0], attempt: 1, alive: true, cancel: false }] });
    const steps = [
      { step: 'setup-finished', detail: { workDir: '/w' }, at: '2026-01-01T00:00:00.100Z' },
      { step: 'pdr-started', detail: { pid: 42 }, at: '2026-01-01T00:00:00.200Z' },
    ];
    // a step of the owning attempt is a heartbeat too (the heartbeat set an hour back first)
    await run(h.em(), 'UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) - INTERVAL 1 HOUR WHERE id = ?', [jobIds[0]]);
    expect(await call('jobStep', { v: 1, jobId: jobIds[0], attempt: 1, runnerId: 'r1', steps })).toEqual({ ok: true });
    const beat = await one<{ age: number }>(h.em(), 'SELECT TIMESTAMPDIFF(SECOND, heartbeat_at, NOW(3)) AS age FROM pdr_model_jobs WHERE id = ?', [jobIds[0]]);
    expect(Number(beat!.age)).toBeLessThan(60);
    expect(await call('jobStep', { v: 1, jobId: jobIds[0], attempt: 1, runnerId: 'r1', steps: [{ step: 'pdr-finished', at: '2026-01-01T00:00:01Z' }] })).toEqual({ ok: true });
    const history = await all<{ step: string; detail: string; at: string }>(
      h.em(),
      `SELECT step, detail, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f') AS at FROM job_steps WHERE job_id = ? AND attempt = 1 ORDER BY id`,
      [jobIds[0]],
    );
    expect(history.map((r) => [r.step, JSON.parse(r.detail), r.at])).toEqual([
      ['setup-finished', { workDir: '/w' }, '2026-01-01 00:00:00.100000'],
      ['pdr-started', { pid: 42 }, '2026-01-01 00:00:00.200000'],
      ['pdr-finished', {}, '2026-01-01 00:00:01.000000'],
    ]);

    const finish = {
      v: 1 as const,
      jobId: jobIds[0],
      attempt: 1,
      runnerId: 'r1',
      status: 'finished' as const,
      reason: null,
      startedAt: '2025-03-01T10:00:00.000Z',
      finishedAt: '2025-03-01T10:01:01.500Z',
      executionMs: 61_500,
      exitCodes: { pdr: 0, onion: { CO: 0 } },
      files: [
        file('hdf4', 'pdrX.hdf', 1),
        file('hdf5_struct', 'pdrstructX.hdf5', 5_000_000_000),
        file('hdf5_chem', 'pdrchemX.hdf5', 3),
        file('textout', 'TEXTOUTX'),
        file('chemchk', 'chemchkX.out'),
        file('mcdrt', 'MCDRTX.tar.gz'),
        file('ctrl_ind', 'CTRL_INDX'),
        file('pdrnew', 'PDRNEWX.INP'),
        file('json', 'pdr_configX.json'),
        file('onion:CO:jerg_CO.smli', 'ONIONX.jerg_CO.smli'),
      ],
      executables: [
        { role: 'pdr' as const, fileName: 'mockpdr', fullPath: '/base/mockpdr', sha256: sha('pdr'), revision: '1.2.3', compilationDate: '2025-02-11T11:01:00Z', reasons: [] },
        { role: 'onion' as const, fileName: 'mockonion', fullPath: '/base/mockonion', sha256: null, revision: null, compilationDate: null, reasons: ['no --version'] },
      ],
      steps: [{ step: 'outputs-stored', detail: { files: 10 }, at: '2025-03-01T10:01:01.400Z' }],
    };
    expect(await call('jobFinish', finish)).toEqual({ applied: true, status: 'finished' });
    expect(await call('jobFinish', finish)).toEqual({ applied: false, status: 'finished' }); // a repeated report changes nothing
    // one job finished: too few to measure, the timeouts are the estimate
    expect(await call('jobsEstimate', { v: 1, gridIds: [gridId] })).toEqual({ grids: [expect.objectContaining({ gridId, basis: 'timeouts', finished: 1 })] });

    // second job: claimed, released; third: abandoned
    await call('jobClaim', { v: 1, jobId: jobIds[1], generation: 0, delivery: 1, runnerId: 'r1' });
    expect(await call('jobRelease', { v: 1, jobId: jobIds[1], attempt: 1, runnerId: 'r1', reason: 'shutdown' })).toEqual({ applied: true, status: 'queued' });
    expect(await call('jobRelease', { v: 1, jobId: jobIds[1], attempt: 1, runnerId: 'r1', reason: 'shutdown' })).toEqual({ applied: false, status: 'queued' });
    expect(await call('jobAbandon', { v: 1, jobId: jobIds[2], runnerId: 'r1', reason: 'max deliveries' })).toEqual({ applied: true, status: 'failed' });

    // the dispatch sweep's questions: the released job is queued; its event taken as lost, it gets a new
    // generation and goes back to pending; pending untouched, it is handed out once; then queued again
    const out: { installationId: string; now: string; queued: number; running: number; jobs: [number, number, number, string][] } = await call('jobsOutstanding', { v: 1, limit: 10 });
    expect(out).toMatchObject({ installationId: grid.installationId, queued: 1, running: 0 });
    expect(out.jobs.map(([id, g, gen]) => [id, g, gen])).toEqual([[jobIds[1], gridId, 0]]);
    const redo: { installationId: string; jobs: number[][] } = await call('jobsRedispatch', { v: 1, jobIds: [jobIds[1], jobIds[2]], queuedBefore: out.now, reason: 'test' });
    expect(redo).toEqual({ installationId: grid.installationId, jobs: [[jobIds[1], gridId, 1]] }); // the failed one is left alone
    await new Promise((r) => setTimeout(r, 1_100));
    const stale: { jobs: number[][] } = await call('jobsTakeStalePending', { v: 1, olderThanMs: 1_000 });
    expect(stale.jobs).toEqual([[jobIds[1], gridId, 1]]);
    expect(((await call('jobsTakeStalePending', { v: 1, olderThanMs: 1_000 })) as { jobs: unknown[] }).jobs).toEqual([]); // touched: not handed out twice at once
    expect(await call('markQueued', { v: 1, jobIds: [jobIds[1]] })).toEqual({ updated: 1 });

    const status: { grid: { total: number; counts: Record<string, number>; firstStartedAt: string | null; lastFinishedAt: string | null } } = await call('gridStatus', {
      v: 1,
      selector: { gridId },
    });
    expect(status.grid.total).toBe(3);
    expect(status.grid.counts).toMatchObject({ finished: 1, queued: 1, failed: 1, pending: 0 });
    expect(status.grid.firstStartedAt).toBe('2025-03-01T10:00:00.000Z');
    const byName: { grid: { gridId: number } } = await call('gridStatus', { v: 1, selector: { modelName: 'contract' } });
    expect(byName.grid.gridId).toBe(gridId);
    const list: { grids: { gridId: number }[] } = await call('gridList', { v: 1, limit: 10 });
    expect(list.grids.map((x) => x.gridId)).toContain(gridId);

    const retried: { gridId: number; jobs: [number, number][] } = await call('gridRetry', { v: 1, selector: { gridId } });
    expect(retried.jobs).toEqual([[jobIds[2], 1]]);

    const q: { jobs: { jobId: number; files?: unknown[]; parameters?: unknown }[]; nextAfterId: number | null } = await call('jobsQuery', {
      v: 1,
      gridId,
      limit: 2,
      withFiles: true,
      withParameters: true,
    });
    const byId = [...jobIds].sort((a, b) => a - b); // keyset paging walks job ids upwards
    expect(q.jobs.map((j) => j.jobId)).toEqual(byId.slice(0, 2));
    expect(q.nextAfterId).toBe(byId[1]);
    expect(q.jobs.every((j) => Array.isArray(j.files))).toBe(true);
    expect(q.jobs.every((j) => j.parameters !== undefined)).toBe(true);
    const q2: { jobs: { jobId: number }[]; nextAfterId: number | null } = await call('jobsQuery', { v: 1, gridId, afterId: q.nextAfterId!, limit: 2 });
    expect(q2).toEqual({ jobs: [expect.objectContaining({ jobId: byId[2] })], nextAfterId: null });
    // the map: compact columns, paged by job id like jobsQuery
    const m1: { ids: number[]; names: string[]; status: number[]; attempts: number[]; ms: (number | null)[]; nextAfterId: number | null } = await call('gridMap', { v: 1, gridId, limit: 2 });
    expect(m1.ids).toEqual(byId.slice(0, 2));
    expect(m1.nextAfterId).toBe(byId[1]);
    const m2: typeof m1 = await call('gridMap', { v: 1, gridId, afterId: m1.nextAfterId! });
    expect(m2.ids).toEqual([byId[2]]);
    expect(m2.nextAfterId).toBeNull();
    const first = byId.indexOf(jobIds[0]) < 2 ? { page: m1, i: byId.indexOf(jobIds[0]) } : { page: m2, i: 0 };
    expect(first.page.names[first.i]).toBe(`${pts[0].join('_')}_00`);
    expect(JOB_STATUSES[first.page.status[first.i]]).toBe('finished');
    expect([first.page.attempts[first.i], first.page.ms[first.i]]).toEqual([1, 61_500]);
    expect(errorCode(await h.client.requestRaw(names(h.ns).rpc('gridMap'), new TextEncoder().encode(JSON.stringify({ v: 1, gridId: 987654 }))))).toBe('NOT_FOUND');
    const byStatus: { jobs: { jobId: number; files?: { role: string }[] }[] } = await call('jobsQuery', {
      v: 1,
      modelName: 'contract',
      status: ['finished'],
      withFiles: true,
    });
    expect(byStatus.jobs.map((j) => j.jobId)).toEqual([jobIds[0]]);
    expect(byStatus.jobs[0].files!.map((f) => f.role).sort()).toEqual(finish.files.map((f) => f.role).sort());

    const got: { job: { status: string; executionMs: number }; attempts: { attempt: number; status: string; exitCodes: unknown; steps: { step: string }[] }[] } = await call('jobGet', {
      v: 1,
      jobId: jobIds[0],
    });
    expect(got.job).toMatchObject({ status: 'finished', executionMs: 61_500 });
    expect(got.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'finished',
        exitCodes: { pdr: 0, onion: { CO: 0 } },
        steps: [
          { step: 'setup-finished', at: '2026-01-01T00:00:00.100Z', detail: { workDir: '/w' } },
          { step: 'pdr-started', at: '2026-01-01T00:00:00.200Z', detail: { pid: 42 } },
          { step: 'pdr-finished', at: '2026-01-01T00:00:01.000Z', detail: {} },
          { step: 'outputs-stored', at: '2025-03-01T10:01:01.400Z', detail: { files: 10 } }, // with the outcome, once
        ],
      }),
    ]);

    const cancelled: { cancelled: number; runningFlagged: number } = await call('gridCancel', { v: 1, selector: { gridId }, kill: true });
    expect(cancelled).toEqual({ gridId, cancelled: 2, runningFlagged: 0 }); // the re-pended and the queued job

    // progress events arrive for the transitions (claim, finish, cancel...)
    await waitFor(() => progress.some((e) => e.jobId === jobIds[0] && e.status === 'finished'));
    expect(progress.every((e) => e.gridId === gridId)).toBe(true);
    sub.unsubscribe();

    // pdr db import: a batch of a pdr_run table; the same batch of the same source again does nothing
    const batch = { v: 1 as const, source: sha('a pdr_run file'), table: 'model_names' as const, rows: [{ id: 1, model_name: 'contract_legacy', model_path: '/store/contract_legacy', model_description: null }] };
    expect(await call('legacyImport', batch)).toEqual({ inserted: 1, merged: 0, skipped: 0, orphans: [] });
    expect(await call('legacyImport', batch)).toEqual({ inserted: 0, merged: 0, skipped: 1, orphans: [] });
    // a row the schema cannot hold is refused naming the table and row, and nothing of its batch is kept
    const tooLong = await h.raw('legacyImport', { ...batch, source: sha('another file'), rows: [{ id: 7, model_name: 'x', model_path: 'p'.repeat(600) }] });
    expect(tooLong).toEqual({ error: expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringMatching(/^model_names row id 7: .*model_path/) }) });
    expect(await all(h.em(), "SELECT COUNT(*) AS n FROM legacy_import_rows WHERE legacy_id = 7")).toEqual([{ n: 0 }]);
  });

  it('wrote pdr_run columns, hdf_files, json_files and executables for the finished job', async () => {
    const em = h.em();
    const job = await one<Record<string, unknown>>(em, 'SELECT * FROM pdr_model_jobs WHERE id = ?', [jobIds[0]]);
    expect(job).toMatchObject({
      status: 'finished',
      pending: 0,
      active: 0,
      execution_time: '1970-01-01 00:01:01.500',
      execution_ms: 61500,
      time_of_start: '2025-03-01 10:00:00.000',
      time_of_finish: '2025-03-01 10:01:01.500',
      output_hdf4_file: '/storage/contract/pdrgrid/pdrX.hdf',
      output_hdf5_file: '/storage/contract/pdrgrid/pdrstructX.hdf5',
      output_textout_file: '/storage/contract/pdrgrid/TEXTOUTX',
      log_file: '/storage/contract/pdrgrid/TEXTOUTX',
      output_chemchk_file: '/storage/contract/pdrgrid/chemchkX.out',
      output_mcdrt_zip_file: '/storage/contract/pdrgrid/MCDRTX.tar.gz',
      output_ctrl_ind_file: '/storage/contract/pdrgrid/CTRL_INDX',
      input_pdrnew_inp_file: '/storage/contract/pdrgrid/PDRNEWX.INP',
      input_json_file: '/storage/contract/pdrgrid/pdr_configX.json',
      output_directory: '/storage/contract',
      onion_species: 'CO C+',
    });
    expect(job!.user_id).not.toBeNull();
    expect(job!.chemical_database_id).not.toBeNull();
    const exe = await one<Record<string, unknown>>(em, 'SELECT * FROM kosmatau_executables WHERE id = ?', [job!.kosmatau_executable_id as number]);
    expect(exe).toMatchObject({ executable_file_name: 'mockpdr', code_revision: '1.2.3', compilation_date: '2025-02-11 11:01:00' });
    const ge = await all<{ role: string }>(em, 'SELECT role FROM grid_executables WHERE grid_id = ? ORDER BY role', [gridId]);
    expect(ge.map((r) => r.role)).toEqual(['onion', 'pdr']);
    const hdf = await all<Record<string, unknown>>(em, 'SELECT * FROM hdf_files WHERE job_id = ?', [jobIds[0]]);
    expect(hdf).toHaveLength(1);
    expect(hdf[0]).toMatchObject({
      file_name: 'pdrX.hdf',
      full_path: '/storage/contract/pdrgrid/pdrX.hdf',
      path: '/storage/contract/pdrgrid',
      file_size: 1,
      file_name_hdf5_s: 'pdrstructX.hdf5',
      file_size_hdf5_s: 5_000_000_000,
      sha256_sum_hdf5_c: sha('pdrchemX.hdf5'),
      modification_time_hdf5_c: '2025-03-01 10:00:00.000',
      pdrexe_id: job!.kosmatau_executable_id,
      parameter_id: job!.kosmatau_parameters_id,
    });
    const json = await all<Record<string, unknown>>(em, 'SELECT * FROM json_files WHERE job_id = ?', [jobIds[0]]);
    expect(json).toEqual([expect.objectContaining({ name: 'pdr_configX.json', path: '/storage/contract/pdrgrid/pdr_configX.json', sha256_sum: sha('pdr_configX.json') })]);
    // pdr_run flags stay in step with the status on every job
    const flags = await all<{ status: string; pending: number; active: number }>(em, 'SELECT status, pending, active FROM pdr_model_jobs');
    for (const f of flags) {
      const expected = f.status === 'running' ? [0, 1] : ['pending', 'queued'].includes(f.status) ? [1, 0] : [0, 0];
      expect({ status: f.status, flags: [f.pending, f.active] }).toEqual({ status: f.status, flags: expected });
    }
    // the times of jobs closed without a report (abandoned, cancelled) are written too
    const closed = await all<{ execution_time: string | null; time_of_finish: string | null }>(em, "SELECT execution_time, time_of_finish FROM pdr_model_jobs WHERE status = 'cancelled'");
    expect(closed.length).toBeGreaterThan(0);
    for (const c of closed) expect(c.execution_time).not.toBeNull();
  });
});

describe('bad input is answered, never crashes the service', () => {
  it.each(STATE_RPCS)('%s: malformed JSON, wrong types and missing fields → BAD_REQUEST', async (name) => {
    expect(errorCode(await h.raw(name, new TextEncoder().encode('{"v":1,')))).toBe('BAD_REQUEST');
    expect(errorCode(await h.raw(name, { v: 1, jobId: 'seven', gridId: [], selector: 5, jobIds: 'x', limit: 'many' }))).toBe('BAD_REQUEST');
    // gridList, jobsQuery and jobsOutstanding have defaults for every field: an empty request is valid
    expect(errorCode(await h.raw(name, {}))).toBe(['gridList', 'jobsQuery', 'jobsOutstanding'].includes(name) ? undefined : 'BAD_REQUEST');
    expect(errorCode(await h.raw(name, { v: 2 }))).toBe('BAD_REQUEST'); // another schema version
  });

  it('unknown job or grid ids → NOT_FOUND', async () => {
    const id = 987654;
    const ref = { v: 1, jobId: id, attempt: 1, runnerId: 'r' };
    const cases: [RpcName, unknown][] = [
      ['jobClaim', { v: 1, jobId: id, generation: 0, delivery: 1, runnerId: 'r' }],
      ['jobHeartbeat', ref],
      ['jobStep', { ...ref, steps: [{ step: 's', at: '2025-01-01T00:00:00Z' }] }],
      ['jobFinish', { ...ref, status: 'finished', startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:00:01Z', executionMs: 1, exitCodes: { pdr: 0, onion: {} }, files: [] }],
      ['jobRelease', { ...ref, reason: 'x' }],
      ['jobAbandon', { v: 1, jobId: id, runnerId: 'r', reason: 'x' }],
      ['jobGet', { v: 1, jobId: id }],
      ['pointsUpsert', { v: 1, gridId: id, points: [['100', '30', '-10', '10']] }],
      ['gridStatus', { v: 1, selector: { gridId: id } }],
      ['gridStatus', { v: 1, selector: { modelName: 'no-such-model' } }],
      ['gridCancel', { v: 1, selector: { gridId: id } }],
      ['gridRetry', { v: 1, selector: { gridId: id } }],
    ];
    for (const [name, payload] of cases) expect({ name, code: errorCode(await h.raw(name, payload)) }).toEqual({ name, code: 'NOT_FOUND' });
  });

  it('a step of an attempt that was never claimed → CONFLICT; physics that cannot build rows → BAD_REQUEST', async () => {
    const { gridId } = await h.client.request('gridUpsert', gridRequest('bad-input'));
    const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1) });
    expect(errorCode(await h.raw('jobStep', { v: 1, jobId: jobs[0][0], attempt: 3, runnerId: 'r', steps: [{ step: 'x', at: '2025-01-01T00:00:00Z' }] }))).toBe('CONFLICT');
    expect(errorCode(await h.raw('jobStep', { v: 1, jobId: jobs[0][0], attempt: 1, runnerId: 'r', steps: [] }))).toBe('BAD_REQUEST');
    const typo = gridRequest('bad-physics', { physics: { alpha: 1.5, rcore: 0.2, chemistry: 'CO', nonDefault: { Xhtyr: 1 } } });
    const reply = await h.raw('gridUpsert', typo);
    expect(errorCode(reply)).toBe('BAD_REQUEST');
    expect(JSON.stringify(reply)).toMatch(/Xhtyr/);
    const longPath = await h.raw('gridUpsert', gridRequest('long-path', { modelPath: `/${'p'.repeat(600)}` }));
    expect(errorCode(longPath)).toBe('BAD_REQUEST');
    expect(JSON.stringify(longPath)).toMatch(/modelPath/);
  });

  it('still answers afterwards', async () => {
    const health = await collectHealth(h.nc, h.ns, 500);
    expect(health.map((x) => x.service)).toContain('state');
    expect((await h.client.request('gridList', { v: 1 })).grids.length).toBeGreaterThan(0);
  });
});

describe('one forked entity manager per message', () => {
  it('runs every message in its own RequestContext with a distinct EM; concurrent loads get distinct entities', async () => {
    const { gridId } = await h.client.request('gridUpsert', gridRequest('identity-map'));
    const { jobs } = await h.client.request('pointsUpsert', { v: 1, gridId, points: points(1, '50') });
    const jobId = jobs[0][0];

    const emIds: number[] = [];
    const loaded: object[] = [];
    const original = RequestContext.create.bind(RequestContext);
    const spy = jest.spyOn(RequestContext, 'create').mockImplementation(((em: never, next: () => Promise<unknown>) =>
      original(em, async () => {
        const forked = RequestContext.getEntityManager()!;
        emIds.push(forked.id);
        // the same entity loaded through this message's EM: must be a different instance per message
        loaded.push((await forked.findOne(PdrModelJob, jobId))!);
        return next();
      })) as never);
    try {
      await Promise.all(Array.from({ length: 8 }, () => h.client.request('jobGet', { v: 1, jobId })));
    } finally {
      spy.mockRestore();
    }
    expect(emIds).toHaveLength(8);
    expect(new Set(emIds).size).toBe(8);
    expect(emIds).not.toContain(h.state.orm.em.id);
    expect(new Set(loaded).size).toBe(8);
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
