/**
 * Faults of remote storage with real processes (state, planner, runner) and a private sshd:
 * - the SSH server stops mid-grid and comes back: every point finishes, PDR ran once per point (a store
 *   that failed meanwhile kept its outputs in quarantine and the redelivery stored them), every file there;
 * - permission denied on the model folder: the points fail at once with that reason, nothing is recorded
 *   as stored, and `pdr run` exits 1.
 */
import { createHash } from 'crypto';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { StorageSettings } from '@pdr/contracts';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { runCli, sleep, waitFor } from '../support/processes';
import { sshdUnavailable, startSshd, type SshdServer } from '../support/sshd';

jest.setTimeout(240_000);

const noSshd = sshdUnavailable();
if (noSshd) console.warn(`SFTP outage fault tests skipped: ${noSshd}`);

(noSshd ? describe.skip : describe)('SFTP storage faults', () => {
  let s: ProcStack;
  let sshd: SshdServer;
  beforeAll(async () => {
    sshd = await startSshd();
    // deliveries enough to outlast a short outage (500 ms apart); PDR takes a moment so the outage hits running points
    s = await startProcStack({ runners: 1, concurrency: 2, env: { PDR_JOB_MAX_DELIVER: '40', MOCK_PDR_SECONDS: '0.3' } });
  });
  afterAll(async () => {
    await s?.close();
    await sshd?.destroy();
  });

  const settings = (baseDir: string): StorageSettings => ({
    type: 'sftp',
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    baseDir,
    privateKeyFile: sshd.keyFile,
    knownHostsFile: sshd.knownHostsFile,
    hostKeyCheck: true,
  });
  const userDir = (name: string) => {
    const d = join(sshd.storageDir, name);
    mkdirSync(d);
    chownSync(d, sshd.uid, sshd.gid);
    return d;
  };

  it('sshd stopped mid-grid and started again: every point finishes once, its files complete', async () => {
    const base = userDir('outage');
    const request = s.request({ modelName: 'outage_model', axes: { dens: ['30', '40', '50', '60'], chi: ['10', '20'] }, onionSpecies: ['CO'] });
    const sub = await s.client.request('gridSubmit', { v: 1, request: { ...request, run: { ...request.run, storage: settings(base) } } });
    // wait for the first stored point, then take the server away while others run
    await waitFor('a first point stored', async () => (await s.client.request('gridStatus', { v: 1, selector: { gridId: sub.gridId } })).grid.counts.finished > 0, 60_000, 50);
    await sshd.stop();
    await sleep(2_500);
    await sshd.start();
    const grid = await s.waitDone(sub.gridId, 180_000);
    expect(grid.counts).toMatchObject({ finished: 8, failed: 0, problem: 0 });
    const jobs = await s.jobs(sub.gridId);
    // PDR ran exactly once per point
    expect(s.runs().map((r) => r.jobName).sort()).toEqual(jobs.map((j) => j.jobName).sort());
    const pdrgrid = readdirSync(join(base, 'outage_model', 'pdrgrid'));
    for (const j of jobs) {
      for (const f of j.files ?? []) {
        expect(createHash('sha256').update(readFileSync(join(base, f.relPath))).digest('hex')).toBe(f.sha256);
      }
      expect((j.files ?? []).length).toBe(9 + 4); // PDR outputs and the mock onion's CO files
      expect(pdrgrid).toContain(`CTRL_IND${j.jobName}`);
    }
    // no temp or upload leftovers
    expect(pdrgrid.filter((n) => n.startsWith('.'))).toEqual([]);
    expect(s.logs()).toMatch(/SFTP connection lost|cannot connect|transient failure/);
  });

  it('permission denied on the model folder: points fail with that reason, nothing recorded as stored, pdr run exits 1', async () => {
    const base = userDir('denied');
    mkdirSync(join(base, 'denied_model'), { mode: 0o755 }); // root's: the SFTP user cannot write in it
    chmodSync(join(base, 'denied_model'), 0o755);
    const cfg = join(s.root, 'denied.yaml');
    writeFileSync(
      cfg,
      [
        'pdr:',
        '  model_name: denied_model',
        `  base_dir: ${s.baseDir}`,
        '  pdr_file_name: countpdr',
        '  chem_database: chem_rates_mock.dat',
        'storage:',
        '  type: sftp',
        `  host: ${sshd.host}`,
        `  port: ${sshd.port}`,
        `  username: ${sshd.user}`,
        `  base_dir: ${base}`,
        `  key_file: ${sshd.keyFile}`,
        `  known_hosts_file: ${sshd.knownHostsFile}`,
        'model_parameters:',
        '  dens: ["30", "40"]',
        '  chi: ["10"]',
        '  species: ["CO"]',
        '',
      ].join('\n'),
    );
    // the storage check would refuse before submitting: the folder turns unwritable after it, as mid-grid
    const r = await runCli(['run', '--config', cfg, '--no-storage-check'], { env: { PDR_NATS_URL: s.natsUrl, PDR_NATS_PREFIX: s.ns }, timeoutMs: 120_000 });
    expect({ code: r.code, out: r.stdout }).toEqual({ code: 1, out: expect.stringMatching(/points that did not finish \(2 failed/) });
    const { grid } = await s.client.request('gridStatus', { v: 1, selector: { modelName: 'denied_model' } });
    const jobs = await s.jobs(grid.gridId);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) {
      expect(j.status).toBe('failed');
      expect(j.reason).toMatch(/permission denied/i);
      expect(j.reason).toContain(`sftp://${sshd.user}@127.0.0.1:${sshd.port}`);
      expect(j.reason).toContain('denied_model/');
      expect(j.attempt).toBe(1);
      expect(j.files ?? []).toEqual([]);
    }
    const ids = jobs.map((j) => j.jobId);
    const rows = await s.sql<{ n: number }>(`SELECT (SELECT COUNT(*) FROM hdf_files WHERE job_id IN (?)) + (SELECT COUNT(*) FROM job_files WHERE job_id IN (?)) AS n`, [ids, ids]);
    expect(Number(rows[0].n)).toBe(0);
  });
});
