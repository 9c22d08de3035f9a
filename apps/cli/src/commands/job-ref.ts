import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RpcReply, safeName } from '@pdr/contracts';
import type { ContractClient } from '@pdr/messaging/client';
import { UsageError } from '../errors';

export type JobGet = RpcReply<'jobGet'>;
export type JobAttemptInfo = JobGet['attempts'][number];

/** "42" → job id 42; anything else → a job name (the latest job of that name, or of that name in --model). */
export function jobRequestOf(arg: string, model?: string): { jobId: number } | { jobName: string; modelName?: string } {
  if (/^\d+$/.test(arg)) {
    const id = Number(arg);
    if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`job id ${arg} must be a positive integer`);
    if (model !== undefined) throw new UsageError('--model goes with a job name, not a job id');
    return { jobId: id };
  }
  const ok = safeName.safeParse(arg);
  if (!ok.success) throw new UsageError(`"${arg}" is neither a job id nor a job name such as 100_30_-10_10_00`);
  if (model !== undefined && !safeName.safeParse(model).success) throw new UsageError(`--model "${model}" is not a model name`);
  return model === undefined ? { jobName: arg } : { jobName: arg, modelName: model };
}

export async function getJob(client: ContractClient, arg: string, model?: string): Promise<JobGet> {
  return client.request('jobGet', { v: 1, ...jobRequestOf(arg, model) });
}

/** The attempt the job row points at (its latest), if any. */
export function currentAttempt(j: JobGet): JobAttemptInfo | undefined {
  return j.attempts.find((a) => a.attempt === j.job.attempt) ?? j.attempts[j.attempts.length - 1];
}

/** `runner@host:pid:xxxx` → host. */
export function hostOf(runnerId: string | null): string | null {
  if (!runnerId) return null;
  const m = /^[^@]+@(.+):\d+:[0-9a-f]+$/.exec(runnerId);
  return m ? m[1] : null;
}

/** The job directory of an attempt (from its `setup-finished` step), or null. */
export function workDirOf(a: JobAttemptInfo | undefined): string | null {
  const step = a?.steps.find((s) => s.step === 'setup-finished');
  const d = (step?.detail as { workDir?: unknown } | undefined)?.workDir;
  return typeof d === 'string' ? d : null;
}

/** The kept job directories (--keep-tmp), `host:dir`, newest attempt last. */
export function keptDirs(j: JobGet): string[] {
  const out: string[] = [];
  for (const a of j.attempts) {
    for (const s of a.steps) {
      if (s.step !== 'work-dir-kept') continue;
      const d = s.detail as { workDir?: unknown; host?: unknown };
      if (typeof d.workDir === 'string') out.push(`${typeof d.host === 'string' ? `${d.host}:` : ''}${d.workDir}`);
    }
  }
  return out;
}

/** The role of a TEXTOUT in the stored files: PDR's, or an onion species'. */
export function textoutRole(species?: string): string {
  return species === undefined ? 'textout' : `onion:${species}:TEXTOUT`;
}

/**
 * Reads a stored file through the storage backend of the job's grid (local, sftp or rclone; copied to a
 * temporary file and read back). Remote credentials come from this process's PDR_STORAGE_* environment.
 */
export async function readStored(j: JobGet, relPath: string): Promise<Buffer> {
  if (!j.grid) throw new Error(`job ${j.job.jobId} belongs to no grid: its storage is unknown`);
  const { createStorage, closeStorageConnections } = require('@pdr/storage') as typeof import('@pdr/storage');
  const storage = createStorage(j.grid.storage);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-show-'));
  try {
    const local = path.join(tmp, 'file');
    await storage.retrieve(relPath, local);
    return fs.readFileSync(local);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await closeStorageConnections().catch(() => undefined);
  }
}

export type TextoutSource = { kind: 'stored'; relPath: string } | { kind: 'live'; file: string } | { kind: 'none'; why: string };

/**
 * Where the TEXTOUT of a job is: while it runs, in its job directory on the runner (readable here when
 * the runner runs on this machine or shares the file system); afterwards, in storage.
 */
export function textoutSource(j: JobGet, species?: string): TextoutSource {
  const a = currentAttempt(j);
  if (j.job.status === 'running') {
    const dir = workDirOf(a);
    const file = dir === null ? null : path.join(dir, species === undefined ? 'pdroutput/TEXTOUT' : 'onionoutput/TEXTOUT');
    if (file !== null && fs.existsSync(file)) return { kind: 'live', file };
    const host = hostOf(a?.runnerId ?? null);
    return {
      kind: 'none',
      why:
        file === null
          ? `job ${j.job.jobId} is running but has not reported its job directory yet; try again in a moment`
          : `job ${j.job.jobId} runs on ${host ?? 'another machine'}: its TEXTOUT is ${file} there (not visible from here)`,
    };
  }
  const stored = (j.job.files ?? []).find((f) => f.role === textoutRole(species));
  if (stored) return { kind: 'stored', relPath: stored.relPath };
  return { kind: 'none', why: `job ${j.job.jobId} (${j.job.status}) has no stored ${species === undefined ? 'TEXTOUT' : `TEXTOUT of onion ${species}`}` };
}

/** The last `n` lines of a text. */
export function lastLines(text: string, n: number): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}
