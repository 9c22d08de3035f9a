import { Command, Option } from 'commander';
import { GridSubmitReply, GridSummary, SUCCESS_STATUSES } from '@pdr/contracts';
import { CliContext, Session, withSession } from '../context';
import { CliError, EXIT, exitWith, howToStart, UsageError } from '../errors';
import { noticeLine, warningLine } from '../output/io';
import { ProgressView } from '../output/progress';
import { failedJobsTable, gridSummaryText } from '../output/summary';
import { DEFAULT_MAX_POINTS } from '../plan/defaults';
import type { PlannedRun, RunFlags } from '../plan/run-plan';
import { messaging } from '../lazy';
import { missingServices } from './health';
import { requireStorage, storageCheckEnv } from './storage';
import { addAxisOptions, addPreflightOptions, addRandomOptions, positiveInt, positiveSeconds } from './options';

/** Failed points listed in the final summary (the rest: pdr jobs). */
const FAILED_SHOWN = 50;

/**
 * `--parallel`, `--workers`, `--cpus` are accepted for pdr_run compatibility and have no effect: a grid
 * is submitted to the planner and the runners' slots (pdr up --runners N --concurrency M) decide how
 * many points run at once. A one-line notice says so.
 */
function parallelismNotice(f: RunFlags): string | null {
  const given = [f.parallel ? '--parallel' : null, f.workers !== undefined ? '--workers' : null, f.cpus !== undefined ? '--cpus' : null].filter(
    (x): x is string => x !== null,
  );
  if (given.length === 0) return null;
  return `note: ${given.join(', ')} ${given.length === 1 ? 'has' : 'have'} no effect on a submitted grid: the runners' slots decide the parallelism (pdr up --runners N --concurrency M)`;
}

export function submittedLine(r: GridSubmitReply): string {
  const parts = [`${r.created} new`, `${r.queued} queued`];
  if (r.alreadyDone > 0) parts.push(`${r.alreadyDone} already done`);
  if (r.inProgress > 0) parts.push(`${r.inProgress} running`);
  if (r.notRetried > 0) parts.push(`${r.notRetried} failed before, not retried (use --retry-failed)`);
  return `grid ${r.gridId} (model ${r.modelName}): ${r.total} point(s): ${parts.join(', ')}`;
}

/** Exit status of a settled grid: 0 only when every point finished or was skipped. */
export function exitCodeOf(grid: GridSummary): number {
  const ok = SUCCESS_STATUSES.reduce((n, s) => n + grid.counts[s], 0);
  return ok === grid.total ? EXIT.OK : EXIT.FAILED;
}

async function printSummary(ctx: CliContext, s: Session, grid: GridSummary, wide = false): Promise<void> {
  ctx.io.out('');
  ctx.io.out(gridSummaryText(grid));
  const bad = grid.counts.failed + grid.counts.problem;
  if (bad > 0) {
    const { jobs } = await s.client.request('jobsQuery', { gridId: grid.gridId, status: ['failed', 'problem'], limit: FAILED_SHOWN });
    ctx.io.out('');
    const kinds = [grid.counts.problem > 0 ? `${grid.counts.problem} problem` : null, grid.counts.failed > 0 ? `${grid.counts.failed} failed` : null].filter(Boolean);
    ctx.io.out(`points that did not finish (${kinds.join(', ')}; what each status means: pdr help statuses; one point in full: pdr show <job>):`);
    ctx.io.out(failedJobsTable(jobs, wide));
    if (bad > jobs.length) ctx.io.out(`… ${bad - jobs.length} more: pdr jobs --grid ${grid.gridId} --status failed problem`);
    ctx.io.out(`retry them with: pdr retry ${grid.gridId}`);
  }
  if (grid.counts.cancelled > 0) ctx.io.out(`${grid.counts.cancelled} point(s) cancelled (pdr retry ${grid.gridId} --include-cancelled)`);
}

/** Names state/planner if they do not answer (exit 3); warns when no runner is there to run the points. */
async function checkServices(ctx: CliContext, s: Session): Promise<void> {
  const missing = missingServices(await messaging().collectHealth(s.nc, s.ns));
  const needed = missing.filter((m) => m !== 'runner');
  if (needed.length > 0) {
    for (const m of needed.slice(1)) ctx.io.err(`pdr: error: the ${m} service is not running; ${howToStart(m)}`);
    throw new CliError(`the ${needed[0]} service is not running; ${howToStart(needed[0])}`, EXIT.SERVICE_MISSING);
  }
  if (missing.includes('runner')) {
    ctx.io.err(warningLine(`no runner is running: the points wait in the queue until one starts; ${howToStart('runner')}`));
  }
}

export async function runRun(ctx: CliContext, f: RunFlags): Promise<number> {
  if (f.single && f.random !== undefined) throw new UsageError('--single and --random cannot be used together');
  const notice = parallelismNotice(f);
  if (notice) ctx.io.err(noticeLine(notice));
  const { dryRunText, planRun, submitTimeoutMs } = require('../plan/run-plan') as typeof import('../plan/run-plan');
  const plan: PlannedRun = planRun(f, { cwd: ctx.cwd, env: ctx.env });
  for (const w of plan.warnings) ctx.io.err(warningLine(w));
  const { preflightRequest, reportPreflight } = require('../preflight/preflight') as typeof import('../preflight/preflight');
  // a dry run writes nothing: its storage check is the read-only one (the real run's writes a probe, below)
  const checked = await preflightRequest(plan.request, {
    remoteRunners: plan.remoteRunners,
    ...(f.dryRun && f.storageCheck !== false ? { storage: { env: storageCheckEnv(plan.loaded.config, ctx.env) } } : {}),
  });
  if (f.dryRun) {
    ctx.io.out(dryRunText(plan, f, ctx.env));
    if (checked.storage) ctx.io.out(checked.storage);
    reportPreflight(ctx, checked);
    return EXIT.OK;
  }
  // nothing is sent before every file the runners need was found (exit 2 naming each missing one)
  reportPreflight(ctx, checked);
  // a grid never starts against storage that cannot take it (libs/storage checkStorage)
  // (silent when it passes; its one line is the error otherwise)
  if (f.storageCheck !== false) await requireStorage(ctx, plan.request.run.storage, plan.request.modelName, plan.loaded.config);
  return withSession(
    ctx,
    async (s) => {
      await checkServices(ctx, s);
      const reply = await s.client.request(
        'gridSubmit',
        { request: plan.request, retryFailed: f.retryFailed === true, maxPoints: plan.maxPoints },
        { timeoutMs: submitTimeoutMs(plan.total) },
      );
      ctx.io.out(submittedLine(reply));
      if (reply.seed !== null) ctx.io.out(`random seed: ${reply.seed} (reproduce with --seed ${reply.seed})`);
      ctx.io.out(`storage: ${plan.storagePath}`);
      if (f.detach) {
        ctx.io.out(`detached; follow with: pdr status ${reply.gridId}`);
        return EXIT.OK;
      }
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const view = new ProgressView(ctx.io);
      try {
        const { watchGrid } = require('../watch/watch-grid') as typeof import('../watch/watch-grid');
        const res = await watchGrid(s, reply.gridId, view, { signal: abort.signal });
        view.finish();
        if (res.kind === 'aborted') {
          ctx.io.err(noticeLine(`stopped watching; grid ${reply.gridId} keeps running (pdr status ${reply.gridId}, pdr cancel ${reply.gridId})`));
          return EXIT.INTERRUPTED;
        }
        await printSummary(ctx, s, res.grid, f.wide === true);
        return exitCodeOf(res.grid);
      } finally {
        view.finish();
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
    },
    { reconnect: true, configFile: f.config },
  );
}

export function registerRun(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('run')
    .description('submit a grid of KOSMA-tau models (pdr_run flags) and follow it to the end')
    .option('--config <file>', 'YAML config file (pdr_run format), relative to the current directory')
    .option('--model-name <name>', 'grid name (default: pdr.model_name or pdr_model_<YYYYmmdd_HHMMSS>)')
    .addOption(new Option('--single', 'only the first value of each axis (one model)').conflicts('grid'))
    .addOption(new Option('--grid', 'the Cartesian grid of all axis values (the default)').conflicts('single'))
    .option('--parallel', 'accepted for pdr_run compatibility; no effect (the runners decide)')
    .option('--workers <n>', 'accepted for pdr_run compatibility; no effect (the runners decide)', positiveInt)
    .option('--cpus <n>', 'accepted for pdr_run compatibility; no effect (the runners decide)', positiveInt)
    .option('--force-onion', 'run onion even when the PDR outputs exist already')
    .option('--keep-tmp', 'keep each job directory on the runner');
  addRandomOptions(addAxisOptions(cmd).option('--species <names...>', 'onion species (one onion run per species)'))
    .option('--json-template <file>', 'your pdr_config.json template, relative to the current directory')
    .option('--dry-run', 'print the effective configuration and the planned points; submit nothing')
    .option('--detach', 'submit and return; follow later with pdr status')
    .option('--retry-failed', 'run points again that failed in an earlier submission')
    .option('--max-points <n>', `refuse grids with more points (default ${DEFAULT_MAX_POINTS})`, positiveInt)
    .option('--pdr-timeout <sec>', 'time limit of one PDR run (default 43200)', positiveSeconds)
    .option('--onion-timeout <sec>', 'time limit of one onion run (default 7200)', positiveSeconds)
    .option('--wide', 'do not cut the reasons in the final summary')
    .option('--no-storage-check', 'submit without first writing a probe file to the storage (pdr storage check); with --dry-run: without the read-only storage check');
  addPreflightOptions(cmd)
    .action(async (opts: RunFlags) => {
      exitWith(await runRun(ctx(), opts));
    });
}
