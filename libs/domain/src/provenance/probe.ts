/**
 * Executable provenance (SPEC §5.9, fixing defect 24): sha256 of the file and revision/compilation
 * date from ONE run of `<exe> --version` (execFile, no shell, with a timeout). Failures give nulls
 * plus human-readable reasons, never sentinel strings.
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import { constants as fsConstants, createReadStream, promises as fsp } from 'fs';
import * as path from 'path';
import { parseVersionOutput } from './version';

/** SHA-256 hex of a file, streamed. Rejects with an error naming the path. */
export function sha256File(filePath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const stream = createReadStream(filePath);
    stream.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot read ${filePath} for sha256: ${err.code ?? err.message}`)));
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('end', () => resolve(hash.digest('hex')));
  });
}

export interface ExecutableProbe {
  /** Absolute path that was probed. */
  readonly path: string;
  readonly fileName: string;
  readonly sha256: string | null;
  readonly revision: string | null;
  readonly compilationDate: Date | null;
  /** Why any of the fields above is null (empty when everything was found). */
  readonly reasons: string[];
}

export interface ProbeOptions {
  /** Timeout of the `--version` run; default 10 000 ms (pdr_run's 10 s). */
  readonly timeoutMs?: number;
}

interface RunResult {
  output?: string;
  reason?: string;
}

function runVersion(exe: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      exe,
      ['--version'],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true, encoding: 'utf8', cwd: path.dirname(exe) },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number | null };
          if (e.killed && e.signal === 'SIGKILL') resolve({ reason: `${exe} --version timed out after ${timeoutMs} ms` });
          else if (typeof e.code === 'number') resolve({ reason: `${exe} --version exited with code ${e.code}` });
          else if (e.signal) resolve({ reason: `${exe} --version was killed by ${e.signal}` });
          else resolve({ reason: `${exe} --version could not run: ${e.code ?? e.message}` });
          return;
        }
        resolve({ output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/** Fingerprints an executable: sha256 + revision + compilation date, with reasons for anything missing. */
export async function probeExecutable(exePath: string, opts: ProbeOptions = {}): Promise<ExecutableProbe> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`probeExecutable: timeoutMs must be > 0, got ${timeoutMs}`);
  const abs = path.resolve(exePath);
  const base = { path: abs, fileName: path.basename(abs) };
  const reasons: string[] = [];
  let stat;
  try {
    stat = await fsp.stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ...base, sha256: null, revision: null, compilationDate: null, reasons: [code === 'ENOENT' ? `executable not found: ${abs}` : `cannot stat ${abs}: ${code}`] };
  }
  if (!stat.isFile()) {
    return { ...base, sha256: null, revision: null, compilationDate: null, reasons: [`not a regular file: ${abs}`] };
  }
  let sha256: string | null = null;
  try {
    sha256 = await sha256File(abs);
  } catch (err) {
    reasons.push((err as Error).message);
  }
  try {
    await fsp.access(abs, fsConstants.X_OK);
  } catch {
    reasons.push(`not executable: ${abs}`);
    return { ...base, sha256, revision: null, compilationDate: null, reasons };
  }
  const run = await runVersion(abs, timeoutMs);
  if (run.output === undefined) {
    reasons.push(run.reason ?? `${abs} --version failed`);
    return { ...base, sha256, revision: null, compilationDate: null, reasons };
  }
  const info = parseVersionOutput(run.output);
  reasons.push(...info.reasons);
  return { ...base, sha256, revision: info.revision, compilationDate: info.compilationDate, reasons };
}
