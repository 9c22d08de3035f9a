import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStorage } from '@pdr/storage';
import { JobDirPool, readBaseDir, runJob, type JobRunSpec } from './index';

const MOCK_BASE = path.resolve(__dirname, '../../../../deploy/kosmatau-mock');

/**
 * `dirtypdr`: with DIRTY=1 it leaves outputs and litter everywhere a job could (the output dirs, a new
 * subdirectory, the top level, the input dirs, a replaced input link, a straggler in its process group that
 * keeps writing after the executable exited); with DIRTY=0 it prints, a moment after it starts (the
 * straggler would have written again by then), every name and every file that says STALE.
 * Then both run the mock PDR.
 */
const DIRTY_PDR = `#!/bin/sh
if [ "$DIRTY" = 1 ]; then
  echo STALE > pdroutput/STALE_OUT; mkdir -p Out/sub; echo STALE > Out/sub/STALE_SUB; echo STALE > STALE_TOP
  echo STALE > In/STALE_IN; rm templates/PDRNEW.INP.template; echo STALE > templates/PDRNEW.INP.template
  rm pdrinpdata/chem_rates.dat; echo STALE > pdrinpdata/chem_rates.dat; echo STALE > pdroutput/pdrout.hdf
  mkdir STALE_DIR; ln -s /etc STALE_LINK
  (i=0; while [ $i -lt 200 ]; do echo STALE > STALE_LATE 2>/dev/null; sleep 0.05; i=$((i+1)); done) &
else
  sleep 0.3; echo "listing:"; find . | sort
  echo "files with the marker:"; grep -rl "ST[A]LE" . 2>/dev/null
  echo "end of listing"
fi
exec "$MOCK_PDR"
`;

describe('JobDirPool: a reused job directory holds nothing of the earlier job', () => {
  let tmp: string;
  let base: string;
  let workRoot: string;
  let storage: LocalStorage;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pdr-jobdir-'));
    base = path.join(tmp, 'base');
    workRoot = path.join(tmp, 'work');
    storage = new LocalStorage(path.join(tmp, 'storage'));
    require('node:fs').mkdirSync(base);
    for (const e of readdirSync(MOCK_BASE)) symlinkSync(path.join(MOCK_BASE, e), path.join(base, e));
    writeFileSync(path.join(base, 'dirtypdr'), DIRTY_PDR);
    chmodSync(path.join(base, 'dirtypdr'), 0o755);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const spec = (jobName: string, dirty: boolean, over: Partial<JobRunSpec> = {}): JobRunSpec => ({
    jobKey: jobName,
    attempt: 1,
    modelName: 'm',
    jobName,
    baseDir: base,
    workRoot,
    executables: { pdr: 'dirtypdr', onion: 'mockonion' },
    chemDatabase: 'chem_rates_mock.dat',
    species: [],
    inputs: { pdrnewInp: `PDRNEW of ${jobName}\n`, pdrConfigJson: `{"job":"${jobName}"}\n` },
    timeouts: { pdrMs: 60_000, onionMs: 60_000 },
    keepTmp: false,
    forceOnion: false,
    killGraceMs: 2_000,
    env: { DIRTY: dirty ? '1' : '0', MOCK_PDR: path.join(MOCK_BASE, 'mockpdr') },
    ...over,
  });
  const stored = (rel: string): string => readFileSync(path.join(tmp, 'storage', rel), 'utf8');

  it('the next job sees exactly its own layout: no output, file, link or late write of the job before', async () => {
    const pool = new JobDirPool(workRoot, 1);
    const deps = { storage, report: async () => undefined, jobDirs: pool };
    const first = await runJob(spec('a_1', true), deps);
    expect(first.status).toBe('finished');
    // parked, not removed
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'))).toHaveLength(1);
    const second = await runJob(spec('b_2', false), deps);
    expect(second.status).toBe('finished');
    // the same directory, renamed for the second job
    expect(path.basename(second.workDir!).split('-').pop()).toBe(path.basename(first.workDir!).split('-').pop());
    expect(path.basename(second.workDir!)).toMatch(/^b_2\.1-/);
    const log = stored(second.files.textout.relPath);
    const listing = log.slice(log.indexOf('listing:'), log.indexOf('end of listing'));
    expect(listing).not.toContain('STALE');
    expect(listing).toContain('./pdroutput');
    expect(listing).toContain('./Out');
    expect(stored(second.files.pdrnew.relPath)).toBe('PDRNEW of b_2\n');
    expect(stored(second.files.json.relPath)).toBe('{"job":"b_2"}\n');
    // the replaced links point into the base dir again
    const fresh = await runJob(spec('c_3', false, { keepTmp: true }), { storage, report: async () => undefined });
    const tree = (d: string) =>
      readdirSync(d, { recursive: true, withFileTypes: false })
        .map(String)
        .filter((n) => !n.startsWith('MCDRT'))
        .sort();
    expect(existsSync(second.workDir!)).toBe(false); // parked again under another name
    const parked = readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'));
    expect(parked).toHaveLength(1);
    // a parked directory holds the layout only, as a fresh job dir before its run (keepTmp: c_3's, after its run)
    const layout = (d: string) => tree(d).filter((n) => !/^(pdroutput|Out|onionoutput)\//.test(n) && !n.startsWith('collected'));
    expect(layout(path.join(workRoot, parked[0]))).toEqual(layout(fresh.workDir!));
    expect(tree(path.join(workRoot, parked[0])).filter((n) => /^(pdroutput|Out|onionoutput)\//.test(n))).toEqual([]);
    pool.close();
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'))).toEqual([]);
  });

  it('the base dir read before the slot was free (readBaseDir) lays out the job directory; other needs read it again', async () => {
    rmSync(path.join(base, 'In'));
    require('node:fs').mkdirSync(path.join(base, 'In'));
    writeFileSync(path.join(base, 'In', 'early.dat'), 'early\n');
    const s = spec('r_1', false, { keepTmp: true, executables: { pdr: 'mockpdr', onion: 'mockonion' } });
    const reads = readBaseDir(s, { needPdr: true, needOnion: false });
    await reads.settled;
    writeFileSync(path.join(base, 'In', 'late.dat'), 'late\n'); // after the reads: not in their listing
    const used = await runJob(s, { storage, report: async () => undefined, baseDirReads: reads });
    expect(used.status).toBe('finished');
    expect(readdirSync(path.join(used.workDir!, 'In')).sort()).toEqual(['early.dat']);
    // reads made for other needs (onion too) are not used: the base dir is read again
    const s2 = spec('r_2', false, { keepTmp: true, executables: { pdr: 'mockpdr', onion: 'mockonion' } });
    const other = readBaseDir(s2, { needPdr: true, needOnion: true });
    await other.settled;
    writeFileSync(path.join(base, 'In', 'later.dat'), 'later\n');
    const again = await runJob(s2, { storage, report: async () => undefined, baseDirReads: other });
    expect(again.status).toBe('finished');
    expect(readdirSync(path.join(again.workDir!, 'In')).sort()).toEqual(['early.dat', 'late.dat', 'later.dat']);
    // a check that failed in the early reads fails the job with the preflight's words
    const s3 = spec('r_3', false, { executables: { pdr: 'nopdr', onion: 'mockonion' } });
    const bad = await runJob(s3, { storage, report: async () => undefined, baseDirReads: readBaseDir(s3, { needPdr: true, needOnion: false }) });
    expect(bad).toMatchObject({ status: 'failed', failure: 'setup' });
    expect(bad.reason).toMatch(/nopdr/);
  });

  it('a failed job and a keepTmp job never hand their directory on; the pool keeps at most its size', async () => {
    const pool = new JobDirPool(workRoot, 1);
    const deps = { storage, report: async () => undefined, jobDirs: pool };
    const failed = await runJob(spec('f_1', true, { timeouts: { pdrMs: 1, onionMs: 60_000 } }), deps);
    expect(failed.status).toBe('failed');
    expect(existsSync(failed.workDir!)).toBe(false);
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'))).toEqual([]);
    const kept = await runJob(spec('k_1', false, { keepTmp: true }), deps);
    expect(kept.workDirKept).toBe(true);
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'))).toEqual([]);
    await Promise.all([runJob(spec('p_1', false), deps), runJob(spec('p_2', false), deps)]);
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'))).toHaveLength(1);
    expect(readdirSync(path.join(workRoot, 'm')).sort()).toEqual([path.basename(kept.workDir!)]);
    pool.close();
  });

  it('after close nothing is parked; what gone runners of this host parked is removed at the next start', async () => {
    const pool = new JobDirPool(workRoot, 2);
    pool.close();
    const late = await runJob(spec('l_1', false), { storage, report: async () => undefined, jobDirs: pool });
    expect(late.status).toBe('finished');
    expect(existsSync(late.workDir!)).toBe(false);
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-'))).toEqual([]);

    const host = os.hostname().replace(/[^A-Za-z0-9_.]/g, '_');
    const dead = require('node:child_process').spawnSync('true').pid as number; // exited: its pid is free
    const left = [`.reuse-${host}-${dead}-aaaaaa`, `.reuse-${host}-${process.pid}-bbbbbb`, `.reuse-otherhost-${dead}-cccccc`];
    for (const d of left) require('node:fs').mkdirSync(path.join(workRoot, d, 'pdroutput'), { recursive: true });
    expect(new JobDirPool(workRoot, 1).sweepDead()).toEqual([left[0]]);
    expect(readdirSync(workRoot).filter((n) => n.startsWith('.reuse-')).sort()).toEqual([left[1], left[2]].sort());
  });
});
