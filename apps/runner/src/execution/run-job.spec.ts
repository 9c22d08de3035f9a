import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStorage, storeEach, storagePaths, type StorageBackend, type StoredFile } from '@pdr/storage';
import { runJob, type JobRunSpec, type StepEvent } from './index';

const MOCK_BASE = path.resolve(__dirname, '../../../../deploy/kosmatau-mock');
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Minimal KT_VAR<column>_ rendering of the mock templates (the real renderer lives in @pdr/domain). */
function renderInputs(values: Record<string, string | number>, species: string[]): JobRunSpec['inputs'] {
  const fill = (tpl: string, speciesText: string, grid: string): string => {
    let out = tpl.split('KT_VARspecies_').join(speciesText).split('KT_VARgrid_').join(grid);
    out = out.split('KT_VARCHEM_DATABASE_FILE_').join('chem_rates_mock.dat');
    return out.replace(/KT_VAR([A-Za-z0-9_]+?)_/g, (_m, k: string) => String(values[k] ?? 0));
  };
  const pdrnew = readFileSync(path.join(MOCK_BASE, 'templates/PDRNEW.INP.template'), 'utf8');
  const json = readFileSync(path.join(MOCK_BASE, 'templates/pdr_config.json.template'), 'utf8');
  return {
    pdrnewInp: fill(pdrnew, species.map((s) => `SPECIES  ${s}`).join('\n'), ''),
    pdrConfigJson: fill(json, JSON.stringify(species), 'false'),
  };
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(path.join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('runJob with the kosmatau-mock base dir', () => {
  let tmp: string;
  let workRoot: string;
  let storageBase: string;
  let storage: LocalStorage;
  let events: StepEvent[];
  const baseTreeBefore = listTree(MOCK_BASE);

  const spec = (over: Partial<JobRunSpec> = {}): JobRunSpec => {
    const species = over.species ?? ['CO', 'C+'];
    return {
      jobKey: 'k1',
      attempt: 1,
      modelName: 'mockmodel',
      jobName: '100_30_-10_10_00',
      baseDir: MOCK_BASE,
      workRoot,
      executables: { pdr: 'mockpdr', onion: 'mockonion' },
      chemDatabase: 'chem_rates_mock.dat',
      species,
      inputs: renderInputs({ xnsur: '1.000e+03', mass: '1.000e-01', sint: '10.000000', Niter: 60 }, species),
      timeouts: { pdrMs: 60_000, onionMs: 60_000 },
      keepTmp: false,
      forceOnion: false,
      killGraceMs: 2_000,
      ...over,
    };
  };
  const deps = (extra: Partial<Parameters<typeof runJob>[1]> = {}): Parameters<typeof runJob>[1] => ({
    storage,
    report: async (e) => {
      events.push(e);
    },
    ...extra,
  });
  const storedText = (rel: string): string => readFileSync(path.join(storageBase, rel), 'utf8');

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-runjob-'));
    workRoot = path.join(tmp, 'work');
    storageBase = path.join(tmp, 'storage');
    storage = new LocalStorage(storageBase);
    events = [];
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });
  afterAll(() => {
    // symlinked inputs and cleanup never touch the base dir
    expect(listTree(MOCK_BASE)).toEqual(baseTreeBefore);
  });

  it('runs PDR and onion, stores every output under pdr_run names, removes the job dir', async () => {
    const r = await runJob(spec(), deps());
    expect(r.reason).toBeUndefined();
    expect(r.status).toBe('finished');
    expect(r.exitCodes).toEqual({ pdr: 0, onion: { CO: 0, 'C+': 0 } });
    expect(r.speciesFailures).toEqual({});
    const sp = storagePaths('mockmodel', '100_30_-10_10_00');
    const expected: Record<string, string> = {
      hdf4: sp.hdf4,
      hdf5_struct: sp.hdf5Struct,
      hdf5_chem: sp.hdf5Chem,
      chemchk: sp.chemchk,
      textout: sp.textout,
      mcdrt: sp.mcdrt,
      pdrnew: sp.pdrnew,
      json: sp.json,
      ctrl_ind: sp.ctrlInd,
    };
    for (const s of ['CO', 'C+']) {
      for (const f of [`jerg_${s}.smli`, `jtemp_${s}.smlc`, `linebt_${s}.out`]) expected[`onion:${s}:${f}`] = sp.onionFile(f);
      expected[`onion:${s}:TEXTOUT`] = sp.onionTextout(s);
    }
    expect(Object.fromEntries(Object.entries(r.files).map(([role, f]) => [role, f.relPath]))).toEqual(expected);
    for (const f of Object.values(r.files)) {
      const content = readFileSync(path.join(storageBase, f.relPath));
      expect(f.sha256).toBe(sha(content));
      expect(f.size).toBe(content.length);
    }
    expect(storedText(sp.onionFile('jerg_C+.smli'))).toContain('MOCK onion line intensities for C+');

    // TEXTOUT: header before the program output, footer after it, no premature "Output copied"
    const textout = storedText(sp.textout).split('\n');
    expect(textout[0]).toMatch(/^Begin of PDR Job: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const progress = textout.findIndex((l) => l.startsWith('mockpdr: PDR model finished'));
    const end = textout.findIndex((l) => l.startsWith('End of PDR Job: '));
    expect(progress).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(progress);
    expect(textout.join('\n')).not.toContain('Output copied');
    expect(storedText(sp.onionTextout('CO')).split('\n')[0]).toBe('Running onion for CO');

    // structure file stored AFTER onion modified it
    const struct = storedText(sp.hdf5Struct);
    expect(struct).toContain('ONION CO ');
    expect(struct).toContain('ONION C+ ');

    // MCDRT tarball of Out/
    const tarList = execFileSync('tar', ['-tzf', path.join(storageBase, sp.mcdrt)], { encoding: 'utf8' });
    expect(tarList.split('\n')).toContain('Out/mcdrt.out');

    expect(r.workDir).toMatch(new RegExp(`^${workRoot}/mockmodel/100_30_-10_10_00\\.1-`));
    expect(r.workDirKept).toBe(false);
    await expect(fs.access(r.workDir as string)).rejects.toThrow(/ENOENT/);
    expect(events.map((e) => e.type)).toEqual([
      'setup-finished',
      'pdr-started',
      'pdr-finished',
      'onion-started',
      'onion-finished',
      'onion-started',
      'onion-finished',
      'outputs-stored',
    ]);
    expect(events.every((e) => e.jobKey === 'k1' && e.attempt === 1)).toBe(true);
    expect(r.finishedAt.getTime()).toBeGreaterThanOrEqual(r.startedAt.getTime());
  });

  it('gives two different inputs distinct checksums', async () => {
    const a = await runJob(spec({ jobName: '100_30_-10_10_00' }), deps());
    const b = await runJob(
      spec({ jobName: '100_40_-10_10_00', inputs: renderInputs({ xnsur: '1.000e+04', mass: '1.000e-01', sint: '10.000000' }, ['CO', 'C+']) }),
      deps(),
    );
    expect([a.status, b.status]).toEqual(['finished', 'finished']);
    for (const role of ['hdf4', 'hdf5_struct', 'hdf5_chem', 'ctrl_ind', 'pdrnew', 'json', 'onion:CO:jerg_CO.smli']) {
      expect(a.files[role].sha256).not.toBe(b.files[role].sha256);
    }
    expect(a.files.hdf4.relPath).not.toBe(b.files.hdf4.relPath);
  });

  it('PDR exit != 0 → problem with the exit code; the outputs that exist are stored, onion not run', async () => {
    const r = await runJob(spec({ env: { MOCK_PDR_EXIT: '3' } }), deps());
    expect(r.status).toBe('problem');
    expect(r.exitCodes.pdr).toBe(3);
    expect(r.reason).toMatch(/^PDR exited with code 3; last output: .*"mockpdr: simulated failure \(exit 3\) after writing partial outputs"/);
    expect(Object.keys(r.files).sort()).toEqual(['hdf4', 'json', 'mcdrt', 'pdrnew', 'textout']);
    expect(await storage.exists(storagePaths('mockmodel', '100_30_-10_10_00').hdf4)).toBe(true);
    expect(await storage.exists(storagePaths('mockmodel', '100_30_-10_10_00').ctrlInd)).toBe(false);
    expect(r.speciesFailures).toEqual({ CO: 'not run: PDR exited with code 3', 'C+': 'not run: PDR exited with code 3' });
    expect(r.exitCodes.onion).toEqual({ CO: null, 'C+': null });
    expect(storedText(r.files.textout.relPath)).toMatch(/simulated failure \(exit 3\)[\s\S]*PDR exited with code 3\nEnd of PDR Job: /);
  });

  it('MOCK_PDR_FAIL_MATCH makes only the matching grid point fail', async () => {
    const env = { MOCK_PDR_FAIL_MATCH: '100_40_' };
    const ok = await runJob(spec({ jobName: '100_30_-10_10_00', env }), deps());
    const bad = await runJob(spec({ jobName: '100_40_-10_10_00', env }), deps());
    expect([ok.status, bad.status]).toEqual(['finished', 'problem']);
    expect(bad.exitCodes.pdr).toBe(1);
  });

  it("a missing ONION3.INP.<species> fails the point before PDR runs, in the CLI preflight's words", async () => {
    const r = await runJob(spec({ species: ['CO', 'N2', 'C+'] }), deps());
    expect(r).toMatchObject({ status: 'failed', failure: 'input', transient: false });
    expect(r.reason).toBe(`model_parameters.species ${MOCK_BASE}/onioninpdata/ONION3.INP.N2: onion input of species N2 not found`);
    expect(r.exitCodes).toEqual({ onion: {} });
    expect(r.files).toEqual({});
    expect(readdirSync(path.join(workRoot, 'mockmodel'))).toEqual([]);
  });

  it('an onion exit != 0 is honoured per species (defect 17)', async () => {
    const r = await runJob(spec({ env: { MOCK_ONION_FAIL_MATCH: 'C+', MOCK_ONION_EXIT: '5' } }), deps());
    expect(r.status).toBe('problem');
    expect(r.exitCodes.onion).toEqual({ CO: 0, 'C+': 5 });
    // the reason quotes the executable's last output lines (stderr and stdout share its TEXTOUT)
    expect(r.speciesFailures).toEqual({ 'C+': expect.stringMatching(/^onion exited with code 5; last output: .*"mockonion: simulated failure \(exit 5\) for C\+ after writing partial outputs"$/) });
    expect(r.files['onion:C+:jerg_C+.smli']).toBeDefined(); // partial output still stored
    expect(r.files['onion:C+:jtemp_C+.smlc']).toBeUndefined();
    expect(r.files['onion:CO:jtemp_CO.smlc']).toBeDefined();
  });

  it.each([
    ['SIGTERM', {}],
    ['SIGKILL', { MOCK_IGNORE_SIGTERM: '1' }],
  ])('a hanging PDR is killed on timeout (by %s): failed, reason timeout, no process left', async (how, extraEnv) => {
    const r = await runJob(
      spec({ env: { MOCK_PDR_HANG: '1', ...extraEnv }, timeouts: { pdrMs: 1500, onionMs: 60_000 }, killGraceMs: 300 }),
      deps(),
    );
    expect(r.status).toBe('failed');
    expect(r.failure).toBe('timeout');
    expect(r.reason).toMatch(/^timeout: PDR did not finish within 1500 ms/);
    expect(r.transient).toBe(false);
    expect(r.exitCodes.pdr).toBeNull();
    expect(r.files).toEqual({});
    const started = events.find((e) => e.type === 'pdr-started') as { pid: number } | undefined;
    expect(started).toBeDefined();
    expect(processGone(started!.pid)).toBe(true);
    expect(events.find((e) => e.type === 'pdr-finished')).toMatchObject({ timedOut: true, exitCode: null, signal: how });
    await expect(fs.access(r.workDir as string)).rejects.toThrow(/ENOENT/);
  });

  it('an abort signal kills the running executable → aborted', async () => {
    const ctrl = new AbortController();
    const r = await runJob(
      spec({ env: { MOCK_PDR_HANG: '1' } }),
      deps({
        signal: ctrl.signal,
        report: async (e) => {
          events.push(e);
          if (e.type === 'pdr-started') ctrl.abort(new Error('cancelled by test'));
        },
      }),
    );
    expect(r.status).toBe('aborted');
    expect(r.reason).toBe('aborted: cancelled by test');
    const started = events.find((e) => e.type === 'pdr-started') as { pid: number };
    expect(processGone(started.pid)).toBe(true);
    expect(r.files).toEqual({});
  });

  it('skips a job whose PDR outputs are all stored, with the stored metadata; runs it when one is missing', async () => {
    const first = await runJob(spec(), deps());
    expect(first.status).toBe('finished');
    events = [];
    const second = await runJob(spec({ attempt: 2 }), deps());
    expect(second.status).toBe('skipped');
    expect(second.workDir).toBeNull();
    expect(events.map((e) => e.type)).toEqual(['outputs-exist']);
    expect(second.exitCodes).toEqual({ onion: {} });
    expect(Object.keys(second.files).sort()).toEqual(Object.keys(first.files).sort());
    for (const role of Object.keys(first.files)) {
      expect(second.files[role].sha256).toBe(first.files[role].sha256);
      expect(second.files[role].relPath).toBe(first.files[role].relPath);
    }
    await fs.rm(path.join(storageBase, storagePaths('mockmodel', '100_30_-10_10_00').ctrlInd));
    const third = await runJob(spec({ attempt: 3 }), deps());
    expect(third.status).toBe('finished');
    expect(third.exitCodes.pdr).toBe(0);
  });

  it('the skip check of a backend with head() reads back only files without a record or whose size changed', async () => {
    const first = await runJob(spec(), deps());
    expect(first.status).toBe('finished');
    const statted: string[] = [];
    // local storage seen as a remote backend: head() is a stat without reading, stat() reads the file
    const remoteLike = Object.assign(Object.create(storage) as StorageBackend, {
      head: async (rel: string) => {
        const st = await storage.stat(rel);
        return st && { relPath: st.relPath, fullPath: st.fullPath, size: st.size, mtime: st.mtime, hashes: {} };
      },
      stat: async (rel: string) => {
        statted.push(rel);
        return storage.stat(rel);
      },
    });
    const recorded = Object.fromEntries(Object.entries(first.files).map(([role, f]) => [role, { relPath: f.relPath, size: f.size, sha256: f.sha256 }]));
    const sp = storagePaths('mockmodel', '100_30_-10_10_00');
    delete recorded.textout; // no record: read back
    recorded.json = { ...recorded.json, size: recorded.json.size + 1 }; // another size: read back
    recorded.hdf4 = { ...recorded.hdf4, sha256: 'f'.repeat(64) }; // same size: its recorded sha256 is kept, not read
    const second = await runJob(spec({ attempt: 2, recorded }), deps({ storage: remoteLike }));
    expect(second.status).toBe('skipped');
    expect(statted.sort()).toEqual([sp.json, sp.textout].sort());
    expect(second.files.hdf4.sha256).toBe('f'.repeat(64));
    expect(second.files.json.sha256).toBe(first.files.json.sha256);
    expect(Object.keys(second.files).sort()).toEqual(Object.keys(first.files).sort());
  });

  it('force-onion after a skip restores the structure file and CTRL_IND from storage and runs only onion', async () => {
    const first = await runJob(spec({ species: ['CO'] }), deps());
    expect(first.status).toBe('finished');
    events = [];
    const forced = await runJob(spec({ species: ['CO', 'C'], forceOnion: true, attempt: 2 }), deps());
    expect(forced.reason).toBeUndefined();
    expect(forced.status).toBe('finished');
    expect(forced.exitCodes).toEqual({ onion: { CO: 0, C: 0 } }); // PDR not run
    expect(events.some((e) => e.type === 'pdr-started')).toBe(false);
    // the restored structure file was modified again by onion and stored anew
    const struct = storedText(forced.files.hdf5_struct.relPath);
    expect(struct.match(/^ONION CO /gm)).toHaveLength(2);
    expect(struct).toMatch(/^ONION C /m);
    expect(forced.files.hdf5_struct.sha256).not.toBe(first.files.hdf5_struct.sha256);
    // untouched PDR outputs reported from storage
    expect(forced.files.hdf4.sha256).toBe(first.files.hdf4.sha256);
    expect(forced.files['onion:C:jerg_C.smli']).toBeDefined();
  });

  it('keepTmp keeps the job dir: symlinked inputs (no copies), chemistry link, only pdr/onion linked', async () => {
    const r = await runJob(spec({ keepTmp: true }), deps());
    expect(r.status).toBe('finished');
    expect(r.workDirKept).toBe(true);
    const dir = r.workDir as string;
    expect(await fs.readlink(path.join(dir, 'pdrinpdata/chem_rates.dat'))).toBe(path.join(MOCK_BASE, 'pdrinpdata/chem_rates_mock.dat'));
    expect((await fs.lstat(path.join(dir, 'In/Lyalpha.fuv'))).isSymbolicLink()).toBe(true);
    expect((await fs.lstat(path.join(dir, 'In'))).isDirectory()).toBe(true);
    expect((await fs.lstat(path.join(dir, 'templates/PDRNEW.INP.template'))).isSymbolicLink()).toBe(true);
    expect(await fs.readlink(path.join(dir, 'mockpdr'))).toBe(path.join(MOCK_BASE, 'mockpdr'));
    await expect(fs.lstat(path.join(dir, 'mockgetctrlind'))).rejects.toThrow(/ENOENT/);
    expect(readFileSync(path.join(dir, 'PDRNEW.INP'), 'utf8')).toContain('SPECIES  CO');
    expect(readFileSync(path.join(dir, 'pdroutput/TEXTOUT'), 'utf8')).toContain('End of PDR Job');
    // the rendered mock JSON is valid JSON
    expect(JSON.parse(readFileSync(path.join(dir, 'pdr_config.json'), 'utf8')).species).toEqual(['CO', 'C+']);
  });

  it('keepTmp also keeps the dir of a failed job', async () => {
    const r = await runJob(spec({ keepTmp: true, chemDatabase: 'chem_rates_mock.dat', env: { MOCK_PDR_EXIT: '2' } }), deps());
    expect(r.status).toBe('problem');
    expect(r.workDirKept).toBe(true);
    await expect(fs.access(path.join(r.workDir as string, 'pdroutput/TEXTOUT'))).resolves.toBeUndefined();
  });

  it('a missing chemistry file or executable is a permanent failure naming it; the job dir is removed', async () => {
    const chem = await runJob(spec({ chemDatabase: 'nope.dat' }), deps());
    expect(chem).toMatchObject({ status: 'failed', failure: 'input', transient: false });
    expect(chem.reason).toBe(`pdr.chem_database ${MOCK_BASE}/pdrinpdata/nope.dat: chemistry file not found`);
    const exe = await runJob(spec({ executables: { pdr: 'nopdr', onion: 'mockonion' } }), deps());
    expect(exe).toMatchObject({ status: 'failed', failure: 'setup', transient: false });
    expect(exe.reason).toBe(`pdr.pdr_file_name ${MOCK_BASE}/nopdr: PDR executable not found`);
    const onion = await runJob(spec({ executables: { pdr: 'mockpdr', onion: 'README.md' } }), deps());
    expect(onion.reason).toBe(`pdr.onion_file_name ${MOCK_BASE}/README.md: onion executable is not executable (chmod +x)`);
    expect(readdirSync(path.join(workRoot, 'mockmodel'))).toEqual([]);
    expect(await storage.list('')).toEqual([]);
  });

  it.each([
    ['model name', { modelName: '../evil' }, /model name contains "\/"/],
    ['job name', { jobName: 'a/../../b' }, /job name contains "\/"/],
    ['species', { species: ['CO', '../../x'] }, /species contains "\/"/],
    ['executable', { executables: { pdr: '../mockpdr', onion: 'mockonion' } }, /PDR executable name contains/],
    ['chemistry file', { chemDatabase: '../../etc/passwd' }, /chemical database file name contains/],
    ['relative baseDir', { baseDir: 'deploy/kosmatau-mock' }, /baseDir must be an absolute path/],
  ])('rejects a path-escaping %s before touching anything', async (_what, over, why) => {
    const r = await runJob(spec(over as Partial<JobRunSpec>), deps());
    expect(r).toMatchObject({ status: 'failed', failure: 'input', transient: false, workDir: null });
    expect(r.reason).toMatch(why);
    await expect(fs.access(workRoot)).rejects.toThrow(/ENOENT/);
    await expect(fs.access(storageBase)).rejects.toThrow(/ENOENT/);
  });

  const failingOn = (part: string): StorageBackend => ({
    describe: () => 'failing',
    exists: (p) => storage.exists(p),
    stat: (p) => storage.stat(p),
    list: (p) => storage.list(p),
    retrieve: (p, l) => storage.retrieve(p, l),
    store: async (local, rel): Promise<StoredFile> => {
      if (rel.includes(part)) throw new Error('disk quota exceeded');
      return storage.store(local, rel);
    },
    storeMany: (items) =>
      storeEach(
        async (localPath, relPath) => {
          if (relPath.includes(part)) throw new Error('disk quota exceeded');
          return storage.store(localPath, relPath);
        },
        items,
        4,
      ),
    remove: (p) => storage.remove(p),
  });
  const requiredStored = async () => {
    const sp = storagePaths('mockmodel', '100_30_-10_10_00');
    return Promise.all([sp.hdf4, sp.hdf5Struct, sp.hdf5Chem, sp.ctrlInd].map((p) => storage.exists(p)));
  };

  it('a failed store ends the job as failed (transient, storage); nothing unstored is reported', async () => {
    const r = await runJob(spec(), deps({ storage: failingOn('/pdrchem') }));
    expect(r).toMatchObject({ status: 'failed', failure: 'storage', transient: true });
    expect(r.reason).toMatch(/storing .*hdf5_chem.* failed: disk quota exceeded/);
    expect(r.files.hdf5_chem).toBeUndefined();
    expect(r.files).toEqual({}); // nothing is reported stored by a failed store call
    expect(await storage.exists(storagePaths('mockmodel', '100_30_-10_10_00').textout)).toBe(true); // the optional files went first
    for (const f of Object.values(r.files)) expect(await storage.exists(f.relPath)).toBe(true);
    // the required set is incomplete, so the retry runs the model instead of skipping it
    expect(await requiredStored()).toContain(false);
  });

  it('a failed store of an optional file stores none of the required files (a retry must not skip)', async () => {
    const r = await runJob(spec(), deps({ storage: failingOn('pdrgrid/TEXTOUT') }));
    expect(r).toMatchObject({ status: 'failed', failure: 'storage', transient: true });
    expect(r.reason).toMatch(/storing .*textout.* failed: disk quota exceeded/);
    expect(await requiredStored()).toEqual([false, false, false, false]);
    for (const f of Object.values(r.files)) expect(await storage.exists(f.relPath)).toBe(true);
  });

  it('a failed store keeps every output in quarantine; the next run stores them without running PDR or onion', async () => {
    const failed = await runJob(spec(), deps({ storage: failingOn('/pdrchem') }));
    const kept = path.join(workRoot, '.quarantine', 'mockmodel', '100_30_-10_10_00');
    expect(failed).toMatchObject({ status: 'failed', failure: 'storage', workDir: null });
    expect(failed.reason).toContain(`outputs kept in ${kept}`);
    const manifest = JSON.parse(readFileSync(path.join(kept, 'quarantine.json'), 'utf8'));
    expect(manifest).toMatchObject({ v: 1, status: 'finished', exitCodes: { pdr: 0, onion: { CO: 0, 'C+': 0 } } });
    // both species' onion outputs are kept (the second species does not overwrite the first's)
    expect(readFileSync(path.join(kept, 'onionoutput.CO.TEXTOUT'), 'utf8')).toContain('CO');
    expect(readFileSync(path.join(kept, 'onionoutput.C+.TEXTOUT'), 'utf8')).toContain('C+');
    expect(await requiredStored()).toContain(false);

    events = [];
    const again = await runJob(spec({ attempt: 2 }), deps());
    expect(again).toMatchObject({ status: 'finished', exitCodes: { pdr: 0, onion: { CO: 0, 'C+': 0 } } });
    expect(events.map((e) => e.type)).toEqual(['outputs-restored']);
    expect(await requiredStored()).toEqual([true, true, true, true]);
    expect(Object.keys(again.files).sort()).toEqual(manifest.batches.flat().map((i: { role: string }) => i.role).sort());
    for (const f of Object.values(again.files)) expect(sha(readFileSync(path.join(storageBase, f.relPath)))).toBe(f.sha256);
    expect(existsSync(kept)).toBe(false);
  });

  it('a kill request reaches a job while it stores (a hung store does not hold the slot)', async () => {
    const ctrl = new AbortController();
    const hanging: StorageBackend = {
      ...failingOn('never'),
      storeMany: () => {
        setTimeout(() => ctrl.abort('cancelled by the user'), 50);
        return new Promise<never>(() => undefined);
      },
    };
    const r = await runJob(spec(), deps({ storage: hanging, signal: ctrl.signal }));
    expect(r.status).toBe('aborted');
    expect(r.reason).toMatch(/aborted while storing: cancelled by the user/);
  });

  it('kept outputs of other inputs are discarded and the job runs again', async () => {
    await runJob(spec(), deps({ storage: failingOn('/pdrchem') }));
    events = [];
    const species = ['CO'];
    const r = await runJob(spec({ attempt: 2, species, inputs: renderInputs({ xnsur: '2.000e+03', mass: '1.000e-01', sint: '10.000000', Niter: 60 }, species) }), deps());
    expect(r.status).toBe('finished');
    expect(r.warnings.join('\n')).toMatch(/computed from other inputs: discarded/);
    expect(events.map((e) => e.type)).toContain('pdr-started');
  });

  it('a store that fails again keeps the quarantine and says so', async () => {
    await runJob(spec(), deps({ storage: failingOn('/pdrchem') }));
    const r = await runJob(spec({ attempt: 2 }), deps({ storage: failingOn('/pdrchem') }));
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/outputs still kept in .*\.quarantine/);
    expect(existsSync(path.join(workRoot, '.quarantine', 'mockmodel', '100_30_-10_10_00', 'quarantine.json'))).toBe(true);
  });

  it('a storage error during the skip check is a transient failure, not "missing"', async () => {
    const broken: StorageBackend = {
      describe: () => 'broken',
      exists: async () => {
        throw new Error('connection reset');
      },
      stat: async () => null,
      list: async () => [],
      retrieve: async () => undefined,
      store: async () => {
        throw new Error('unreachable');
      },
      storeMany: async () => {
        throw new Error('unreachable');
      },
      remove: async () => undefined,
    };
    const r = await runJob(spec(), deps({ storage: broken }));
    expect(r).toMatchObject({ status: 'failed', failure: 'storage', transient: true, workDir: null });
    expect(r.reason).toMatch(/checking stored outputs in broken failed: connection reset/);
  });

  it('a report callback that throws is recorded as a warning and never stops the job', async () => {
    const r = await runJob(
      spec({ species: ['CO'] }),
      deps({
        report: async () => {
          throw new Error('state unreachable');
        },
      }),
    );
    expect(r.status).toBe('finished');
    expect(r.warnings).toContain('report of pdr-started failed: state unreachable');
  });

  it('a missing PDRNEW.INP makes the mock exit 2 → problem', async () => {
    const r = await runJob(spec({ species: [], inputs: { pdrnewInp: null, pdrConfigJson: '{}' } }), deps());
    expect(r.status).toBe('problem');
    expect(r.exitCodes.pdr).toBe(2);
    expect(storedText(r.files.textout.relPath)).toContain('cannot read input PDRNEW.INP');
  });
});
