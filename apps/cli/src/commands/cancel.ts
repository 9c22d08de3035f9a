import { Command } from 'commander';
import { CliContext, withSession } from '../context';
import { describeGrid, parseGridRef } from './grid-ref';

export async function runCancel(ctx: CliContext, refArg: string, opts: { kill?: boolean }): Promise<number> {
  const selector = parseGridRef(refArg);
  return withSession(ctx, async ({ client }) => {
    const r = await client.request('plannerCancel', { selector, kill: opts.kill === true });
    ctx.io.out(`${describeGrid(r.gridId, selector)}: ${r.cancelled} waiting point(s) cancelled`);
    if (r.runningFlagged > 0) {
      ctx.io.out(
        opts.kill
          ? `${r.runningFlagged} running point(s) are being killed by their runners`
          : `${r.runningFlagged} running point(s) will finish first (use --kill to stop them now)`,
      );
    }
    return 0;
  });
}

export function registerCancel(program: Command, ctx: () => CliContext): void {
  program
    .command('cancel')
    .argument('<grid>', 'grid id or model name (its latest grid)')
    .description('cancel the points of a grid that have not run yet')
    .option('--kill', 'also kill the points that are running now')
    .action(async (ref: string, opts: { kill?: boolean }) => {
      await runCancel(ctx(), ref, opts);
    });
}
