import { execFile } from 'node:child_process';

/** `tar -czf <archive> <entry>` with cwd `dir` (no shell). Rejects with tar's stderr on failure. */
export function tarGz(dir: string, entry: string, archive: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-czf', archive, '--', entry], { cwd: dir, shell: false, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`tar -czf ${archive} ${entry} (in ${dir}) failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}
