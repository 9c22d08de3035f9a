import type { SlurmConfig } from '@pdr/config';

export interface PilotScriptOptions {
  /** Absolute path of node on the compute nodes (default: the node running `pdr`). */
  node: string;
  /** apps/runner/dist/main.js, absolute. */
  runnerMain: string;
  /** PDR_NATS_PREFIX of the installation. */
  ns: string;
  /** The NATS URL, rendered when it carries no credentials (else sbatch passes the caller's environment). */
  natsUrl?: string;
  /** The config file whose `nats` section the runner reads (credentials stay in the file, not the script). */
  configFile?: string;
}

/** Single-quoted for bash. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** An extra directive as written in the config, with or without its `#SBATCH ` prefix. */
export function directiveLine(d: string): string {
  const t = d.trim();
  return t.startsWith('#SBATCH') ? t : `#SBATCH ${t}`;
}

/**
 * The batch script of one runner pilot: directives from the `slurm` section, the setup lines, then one
 * runner with cpus-per-task slots and its job directories on node-local scratch. Slurm's warning
 * signal (USR1, signal_seconds before the time limit) reaches the batch shell, which passes it to the
 * runner: it claims nothing more. No secret is ever written here (Slurm keeps scripts readable).
 */
export function renderPilotScript(c: SlurmConfig, o: PilotScriptOptions): string {
  const d = (s: string) => `#SBATCH ${s}`;
  const lines = ['#!/bin/bash', d(`--job-name=${c.job_name}`), d('--nodes=1'), d('--ntasks=1'), d(`--cpus-per-task=${c.cpus_per_task}`)];
  if (c.time) lines.push(d(`--time=${c.time}`));
  if (c.partition) lines.push(d(`--partition=${c.partition}`));
  if (c.account) lines.push(d(`--account=${c.account}`));
  if (c.qos) lines.push(d(`--qos=${c.qos}`));
  if (c.mem) lines.push(d(`--mem=${c.mem}`));
  lines.push(d(`--signal=B:USR1@${c.signal_seconds}`));
  if (c.log_dir) lines.push(d(`--output=${c.log_dir}/%x-%j.out`));
  for (const x of c.extra_directives) lines.push(directiveLine(x));
  lines.push('# pdr runner pilot (pdr slurm submit): one runner, one slot per allocated CPU, job directories on local scratch');
  if (c.setup.length) lines.push('# setup', ...c.setup);
  lines.push(`export PDR_NATS_PREFIX=${shellQuote(o.ns)}`);
  if (o.natsUrl && !/\/\/[^/]*@/.test(o.natsUrl)) lines.push(`export PDR_NATS_URL=${shellQuote(o.natsUrl)}`);
  const scratch = c.work_dir ? c.work_dir : '${SLURM_TMPDIR:-${TMPDIR:-/tmp}}';
  lines.push(`work="${scratch}/pdr-runner-\${SLURM_JOB_ID}"`, 'mkdir -p "$work"');
  const args = [
    shellQuote(o.node),
    shellQuote(o.runnerMain),
    '--concurrency',
    '"${SLURM_CPUS_PER_TASK:-' + String(c.cpus_per_task) + '}"',
    '--work-dir',
    '"$work"',
    '--idle-exit',
    String(c.idle_exit_seconds),
    '--shutdown-grace',
    '0',
    ...(o.configFile ? ['--config', shellQuote(o.configFile)] : []),
  ];
  lines.push(
    `${args.join(' ')} &`,
    'runner=$!',
    '# Slurm signals the batch shell (B:USR1) before the time limit: the runner stops claiming',
    'trap \'kill -USR1 "$runner" 2>/dev/null\' USR1',
    'trap \'kill -TERM "$runner" 2>/dev/null\' TERM',
    'while kill -0 "$runner" 2>/dev/null; do wait "$runner"; done',
    'wait "$runner"; status=$?',
    'rm -rf "$work"',
    'exit $status',
    '',
  );
  return lines.join('\n');
}
