import { Command } from 'commander';
import { CliContext, withSession } from '../context';
import { gridListTable, gridSummaryText } from '../output/summary';
import { parseGridRef } from './grid-ref';
import { positiveInt } from './options';

export async function runStatus(ctx: CliContext, ref: string | undefined, opts: { json?: boolean; limit?: number }): Promise<number> {
  return withSession(ctx, async ({ client }) => {
    if (ref === undefined) {
      const { grids } = await client.request('gridList', { limit: opts.limit ?? 20 });
      if (opts.json) ctx.io.out(JSON.stringify(grids, null, 2));
      else if (grids.length === 0) ctx.io.out('no grids yet (submit one with pdr run)');
      else ctx.io.out(gridListTable(grids));
      return 0;
    }
    const { grid } = await client.request('gridStatus', { selector: parseGridRef(ref) });
    ctx.io.out(opts.json ? JSON.stringify(grid, null, 2) : gridSummaryText(grid));
    return 0;
  });
}

export function registerStatus(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .argument('[grid]', 'grid id or model name (its latest grid); without it: the recent grids')
    .description('status counts of a grid, or the list of recent grids')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'how many recent grids to list (default 20)', positiveInt)
    .action(async (ref: string | undefined, opts: { json?: boolean; limit?: number }) => {
      await runStatus(ctx(), ref, opts);
    });
}
