import { JobStatus } from '@pdr/contracts';

/**
 * What each job status means and what to do about it: `pdr help statuses` prints this; the README's
 * "Job statuses" table says the same.
 */
export const STATUS_HELP: Record<JobStatus, { means: string; todo: string }> = {
  pending: { means: 'stored in the database, its job event not yet in the queue', todo: 'nothing: the planner queues it (a planner must be running)' },
  queued: { means: 'its job event is in the queue, waiting for a free runner slot', todo: 'nothing; if it stays queued, start a runner (pdr health shows them)' },
  running: { means: 'a runner claimed it and runs PDR/onion; its heartbeat keeps the claim', todo: 'follow it: pdr log <job> --follow; stop it: pdr cancel <grid> --kill' },
  finished: { means: 'PDR and every onion run exited 0; all outputs are stored', todo: 'nothing' },
  problem: {
    means: 'it ran, but an executable exited ≠ 0 (PDR, or onion for a species); what it wrote is stored',
    todo: 'read why: pdr show <job> (reason, last output lines), pdr log <job> (TEXTOUT); fix the input, then pdr retry <grid>',
  },
  failed: {
    means: 'it could not run or finish: setup (a missing file on the runner), storage, timeout, or given up after retries',
    todo: 'pdr show <job> names the cause; fix it (pdr check --config F checks the files), then pdr retry <grid>',
  },
  skipped: { means: 'its PDR outputs were already stored (an earlier run): nothing was run again', todo: 'nothing; --force-onion re-runs onion on them' },
  cancelled: { means: 'cancelled by pdr cancel before it finished', todo: 'pdr retry <grid> --include-cancelled runs it again' },
};

export function statusesHelpText(): string {
  const lines = ['Job statuses (pending → queued → running → finished | problem | failed | skipped | cancelled):', ''];
  for (const [s, h] of Object.entries(STATUS_HELP)) {
    lines.push(`  ${s.padEnd(10)} ${h.means}`);
    lines.push(`  ${''.padEnd(10)} → ${h.todo}`);
  }
  lines.push('', 'pdr run exits 0 only when every point is finished or skipped; problem, failed and cancelled points make it exit 1.');
  return lines.join('\n');
}
