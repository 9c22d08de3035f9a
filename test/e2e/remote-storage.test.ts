/**
 * Grids through the real stack (state, planner, runner; MariaDB, NATS) stored over SFTP to a private sshd,
 * over rclone to that sshd and over rclone to a local remote: the same file tree and names as the local
 * backend, every row's checksum that of the stored bytes, and reading back (skip check, force-onion) the
 * same on every backend.
 */
import { createHash } from 'crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'fs';
import { join, relative } from 'path';
import type { StorageSettings } from '@pdr/contracts';
import { closeStorageConnections } from '@pdr/storage';
import { startStack, type Stack } from '../support/stack';
import { rcloneUnavailable, sshdUnavailable, startSshd, type SshdServer } from '../support/sshd';

jest.setTimeout(180_000);

const noSshd = sshdUnavailable();
const noRclone = rcloneUnavailable();
const skip = noSshd ?? noRclone;
if (skip) console.warn(`remote storage end-to-end tests skipped: ${skip}`);

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

(skip ? describe.skip : describe)('grids stored over SFTP and rclone through the stack', () => {
  let s: Stack;
  let sshd: SshdServer;
  const axes = { dens: ['30', '40'], chi: ['10', '20'] };

  beforeAll(async () => {
    sshd = await startSshd();
    s = await startStack({ runners: 1, concurrency: 2 });
  });
  afterAll(async () => {
    await s?.close();
    await closeStorageConnections();
    await sshd?.destroy();
  });

  const sshDir = (name: string) => {
    const d = join(sshd.storageDir, name);
    mkdirSync(d);
    chownSync(d, sshd.uid, sshd.gid);
    return d;
  };

  /** Runs the 4-point grid `model` into `storage`; returns the rows' files and the directory on disk. */
  async function runGrid(model: string, storage: StorageSettings, disk: string) {
    const req = s.request({ modelName: model, axes });
    const sub = await s.client.request('gridSubmit', { v: 1, request: { ...req, run: { ...req.run, storage } } });
    const { grid } = await s.waitIdle(sub.gridId, 120_000);
    const { jobs } = await s.client.request('jobsQuery', { v: 1, gridId: sub.gridId, withFiles: true, limit: 100 });
    return { grid, jobs, gridId: sub.gridId, dir: join(disk, model) };
  }

  it('SFTP, rclone → sftp and rclone → local store the same tree as local storage, rows with the checksums of the stored bytes', async () => {
    const local = await runGrid('rs_local', { type: 'local', baseDir: s.storageDir }, s.storageDir);
    expect(local.grid.counts.finished).toBe(4);
    const localTree = tree(local.dir);
    expect(localTree.length).toBeGreaterThan(4 * 9);

    const sftpDir = sshDir('sftp');
    const rcloneSftpDir = sshDir('rclone');
    const rcloneLocalDir = join(s.storageDir, 'rclone-local');
    mkdirSync(rcloneLocalDir);
    const remotes: Array<[string, StorageSettings, string, RegExp]> = [
      [
        'rs_sftp',
        { type: 'sftp', host: sshd.host, port: sshd.port, username: sshd.user, baseDir: sftpDir, privateKeyFile: sshd.keyFile, knownHostsFile: sshd.knownHostsFile, hostKeyCheck: true },
        sftpDir,
        new RegExp(`^sftp://${sshd.user}@127\\.0\\.0\\.1:${sshd.port}/`),
      ],
      [
        'rs_rclone_sftp',
        {
          type: 'rclone',
          remote: `:sftp,host=${sshd.host},port=${sshd.port},user=${sshd.user},key_file=${sshd.keyFile},known_hosts_file=${sshd.knownHostsFile}:`,
          baseDir: rcloneSftpDir,
          remotePathPrefix: null,
        },
        rcloneSftpDir,
        /^:sftp,host=127\.0\.0\.1,/,
      ],
      ['rs_rclone_local', { type: 'rclone', remote: ':local:', baseDir: rcloneLocalDir, remotePathPrefix: null }, rcloneLocalDir, /^:local:\//],
    ];
    const localSha = new Map<string, string>();
    for (const j of local.jobs) for (const f of j.files ?? []) localSha.set(`${j.jobName}/${f.role}`, f.sha256);
    for (const [model, storage, disk, fullPath] of remotes) {
      const r = await runGrid(model, storage, disk);
      expect({ model, counts: r.grid.counts }).toMatchObject({ model, counts: { finished: 4, failed: 0, problem: 0 } });
      expect({ model, tree: tree(r.dir) }).toEqual({ model, tree: localTree });
      for (const j of r.jobs) {
        expect(j.attempt).toBe(1);
        const files = j.files ?? [];
        expect(files.length).toBe(localSha.size / 4);
        for (const f of files) {
          expect(f.fullPath).toMatch(fullPath);
          expect(sha(join(disk, f.relPath))).toBe(f.sha256); // the row's checksum is of the stored bytes
          expect(localSha.has(`${j.jobName}/${f.role}`)).toBe(true);
        }
        // the model outputs themselves are the same as through local storage (logs carry timestamps)
        for (const role of ['hdf4', 'hdf5_chem', 'pdrnew', 'json', 'ctrl_ind']) {
          expect(files.find((f) => f.role === role)?.sha256).toBe(localSha.get(`${j.jobName}/${role}`));
        }
      }
    }
  });

  it('reads back over SFTP: a stored point is skipped, --force-onion restores struct + CTRL_IND and re-runs onion only', async () => {
    const dir = sshDir('readback');
    const storage: StorageSettings = {
      type: 'sftp',
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      baseDir: dir,
      privateKeyFile: sshd.keyFile,
      knownHostsFile: sshd.knownHostsFile,
      hostKeyCheck: true,
    };
    const first = await runGrid('rs_readback', storage, dir);
    expect(first.grid.counts.finished).toBe(4);
    const job = first.jobs[0];
    // the skip check reads nothing back: with every stored file of the point unreadable for the SFTP user
    // (its stat still works) the point is skipped, each file checked by its size and keeping the sha256
    // recorded when it was stored
    const stored = (job.files ?? []).map((f) => join(dir, f.relPath));
    expect(stored.length).toBeGreaterThan(4);
    for (const f of stored) chmodSync(f, 0o000);
    await s.state.orm.em.fork().getConnection().execute(`UPDATE pdr_model_jobs SET status = 'failed' WHERE id = ?`, [job.jobId]);
    await s.client.request('plannerRetry', { v: 1, selector: { gridId: first.gridId } });
    await s.waitIdle(first.gridId);
    for (const f of stored) chmodSync(f, 0o644);
    const skipped = await s.client.request('jobGet', { v: 1, jobId: job.jobId });
    expect(skipped.job.status).toBe('skipped');
    expect(skipped.attempts.at(-1)!.steps.map((x) => x.step)).not.toContain('pdr-started');
    expect(Object.fromEntries((skipped.job.files ?? []).map((f) => [f.role, [f.size, f.sha256]]))).toEqual(
      Object.fromEntries((job.files ?? []).map((f) => [f.role, [f.size, f.sha256]])),
    );

    const req = s.request({ modelName: 'rs_readback', axes });
    const sub = await s.client.request('gridSubmit', { v: 1, request: { ...req, run: { ...req.run, storage, forceOnion: true } } });
    const { grid } = await s.waitIdle(sub.gridId);
    expect(grid.counts.problem + grid.counts.failed).toBe(0);
    const again = await s.client.request('jobGet', { v: 1, jobId: first.jobs[1].jobId });
    const steps = again.attempts.at(-1)!.steps.map((x) => x.step);
    expect(steps).toContain('onion-started');
    expect(steps).not.toContain('pdr-started');
  });
});
