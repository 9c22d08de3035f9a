import { execFile, spawn } from 'child_process';
import { userInfo } from 'os';
import { CliError, EXIT, UsageError } from '../errors';

/** One of our pilots as squeue shows it. */
export interface Pilot {
  jobId: string;
  /** PENDING, RUNNING, COMPLETING, … */
  state: string;
  node: string;
  /** Time left as Slurm prints it (D-HH:MM:SS), or INVALID/UNLIMITED. */
  timeLeft: string;
  /** End time (local, as squeue prints it) or N/A. */
  endTime: string;
  cpus: number;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new CliError(`${cmd} not found: run pdr slurm on a Slurm login node (slurm-client installed)`, EXIT.SERVICE_MISSING)
          : new CliError(`${cmd} failed: ${e.message}`, EXIT.SERVICE_MISSING),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new CliError(`${cmd} ${args.join(' ')} failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`, /invalid|unrecognized|not valid|bad/i.test(err) ? EXIT.USAGE : EXIT.SERVICE_MISSING));
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Submits a batch script (on stdin) from `cwd`; returns the job id. */
export async function sbatch(script: string): Promise<string> {
  const out = (await run('sbatch', ['--parsable'], script)).trim();
  const id = out.split(';')[0];
  if (!/^\d+$/.test(id)) throw new CliError(`sbatch answered "${out}" instead of a job id`, EXIT.FAILED);
  return id;
}

/** Our pilots (this user, this job name), queued or running. */
export async function listPilots(jobName: string): Promise<Pilot[]> {
  const out = await run('squeue', ['-h', '-u', userInfo().username, '--name', jobName, '-o', '%i|%T|%N|%L|%e|%C']);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [jobId, state, node, timeLeft, endTime, cpus] = l.split('|');
      return { jobId, state, node, timeLeft, endTime, cpus: Number(cpus) };
    });
}

export async function scancel(ids: string[]): Promise<void> {
  if (!ids.length) return;
  await run('scancel', ids);
}

/** Slurm's D-HH:MM:SS / HH:MM:SS / MM:SS → seconds (null: not a time). */
export function slurmDurationSeconds(s: string): number | null {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(s.trim());
  if (!m) return null;
  const [, d, h, mi, se] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(mi) * 60 + Number(se);
}

export function checkJobIds(ids: string[]): void {
  for (const id of ids) if (!/^\d+$/.test(id)) throw new UsageError(`"${id}" is not a Slurm job id`);
}

export { execFile };
