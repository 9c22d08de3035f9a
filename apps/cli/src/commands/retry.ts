import { Command } from 'commander';
import { CliContext, withSession } from '../context';
import { describeGrid, parseGridRef } from './grid-ref';

export async function runRetry(ctx: CliContext, refArg: string, opts: { includeCancelled?: boolean }): Promise<number> {
  const selector = parseGridRef(refArg);
  return withSession(ctx, async ({ client }) => {
    const r = await client.request('plannerRetry', { selector, includeCancelled: opts.includeCancelled === true });
    ctx.io.out(
      r.queued === 0
        ? `${describeGrid(r.gridId, selector)}: nothing to retry`
        : `${describeGrid(r.gridId, selector)}: ${r.queued} point(s) queued again; watch with pdr status ${r.gridId}`,
    );
    return 0;
  });
}

export function registerRetry(program: Command, ctx: () => CliContext): void {
  program
    .command('retry')
    .argument('<grid>', 'grid id or model name (its latest grid)')
    .description('queue the failed and problem points of a grid again')
    .option('--include-cancelled', 'also queue the cancelled points again')
    .action(async (ref: string, opts: { includeCancelled?: boolean }) => {
      await runRetry(ctx(), ref, opts);
    });
}
