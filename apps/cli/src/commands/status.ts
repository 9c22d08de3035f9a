import { Command } from 'commander';
import type { GridMapReply } from '@pdr/contracts';
import { CliContext, withSession } from '../context';
import { UsageError } from '../errors';
import { gridListTable, gridSummaryText } from '../output/summary';
import { parseGridRef } from './grid-ref';
import { positiveInt } from './options';

const AXES = ['metal', 'dens', 'mass', 'chi'] as const;
type Axis = (typeof AXES)[number];

export interface StatusOptions {
  json?: boolean;
  limit?: number;
  map?: string;
  at?: string[];
}

/** `--map dens,chi` → the two axes; a clear error naming the flag otherwise. */
export function parseMapAxes(value: string): [Axis, Axis] {
  const parts = value.split(',').map((s) => s.trim());
  const bad = parts.filter((p) => !(AXES as readonly string[]).includes(p));
  if (parts.length !== 2 || bad.length) throw new UsageError(`--map ${value}: expected two of ${AXES.join(', ')} separated by a comma, such as --map dens,chi`);
  if (parts[0] === parts[1]) throw new UsageError(`--map ${value}: choose two different axes`);
  return parts as [Axis, Axis];
}

/** `--at metal=100` (repeatable): a value of an axis that is not on the map. */
export function parseAt(values: readonly string[], map: readonly Axis[]): Partial<Record<Axis, string>> {
  const out: Partial<Record<Axis, string>> = {};
  for (const v of values) {
    const m = /^(\w+)=(\S+)$/.exec(v);
    if (!m || !(AXES as readonly string[]).includes(m[1])) throw new UsageError(`--at ${v}: expected <axis>=<value> with an axis of ${AXES.join(', ')}, such as --at metal=100`);
    if (map.includes(m[1] as Axis)) throw new UsageError(`--at ${v}: ${m[1]} is an axis of the map itself`);
    out[m[1] as Axis] = m[2];
  }
  return out;
}

export async function runStatus(ctx: CliContext, ref: string | undefined, opts: StatusOptions): Promise<number> {
  if (opts.at?.length && !opts.map) throw new UsageError('--at needs --map');
  if (opts.map && ref === undefined) throw new UsageError('--map needs a grid (pdr status <grid> --map dens,chi)');
  const axes = opts.map ? parseMapAxes(opts.map) : null;
  const at = axes ? parseAt(opts.at ?? [], axes) : {};
  return withSession(ctx, async ({ client }) => {
    if (ref === undefined) {
      const { grids } = await client.request('gridList', { limit: opts.limit ?? 20 });
      if (opts.json) ctx.io.out(JSON.stringify(grids, null, 2));
      else if (grids.length === 0) ctx.io.out('no grids yet (submit one with pdr run)');
      else ctx.io.out(gridListTable(grids));
      return 0;
    }
    const { grid } = await client.request('gridStatus', { selector: parseGridRef(ref) });
    if (!axes) {
      ctx.io.out(opts.json ? JSON.stringify(grid, null, 2) : gridSummaryText(grid));
      return 0;
    }
    const pages: GridMapReply[] = [];
    for (let afterId = 0; ; ) {
      const page = await client.request('gridMap', { gridId: grid.gridId, afterId });
      pages.push(page);
      if (page.nextAfterId === null) break;
      afterId = page.nextAfterId;
    }
    // loaded on use: `pdr --help` and the other commands need none of it
    const { GridModel, parseViewSpec, renderTextMap, ViewError } = require('@pdr/map') as typeof import('@pdr/map');
    const model = new GridModel(pages);
    let spec;
    try {
      spec = parseViewSpec(new URLSearchParams({ x: axes[0], y: axes[1], ...at }), model);
    } catch (err) {
      if (err instanceof ViewError) throw new UsageError(`--at ${err.message}`);
      throw err;
    }
    if (opts.json) ctx.io.out(JSON.stringify({ grid, axes: model.axes }, null, 2));
    else ctx.io.out(`${gridSummaryText(grid)}\n\n${renderTextMap(model, spec)}`);
    return 0;
  });
}

export function registerStatus(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .argument('[grid]', 'grid id or model name (its latest grid); without it: the recent grids')
    .description('status counts of a grid, or the list of recent grids; --map draws the parameter space in characters')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'how many recent grids to list (default 20)', positiveInt)
    .option('--map <x,y>', 'the grid as a map of two axes (metal, dens, mass, chi), one character per point or bin, e.g. --map dens,chi')
    .option('--at <axis=value...>', 'with --map: show one value of another axis instead of all of them, e.g. --at metal=100')
    .action(async (ref: string | undefined, opts: StatusOptions) => {
      await runStatus(ctx(), ref, opts);
    });
}
