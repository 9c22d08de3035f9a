import { safeName } from '@pdr/contracts';
import { UsageError } from '../errors';

export type GridRef = { gridId: number } | { modelName: string };

/** "42" → grid id 42; anything else → a model name (its latest grid). */
export function parseGridRef(arg: string): GridRef {
  if (/^\d+$/.test(arg)) {
    const id = Number(arg);
    if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`grid id ${arg} must be a positive integer`);
    return { gridId: id };
  }
  const ok = safeName.safeParse(arg);
  if (!ok.success) throw new UsageError(`"${arg}" is neither a grid id nor a model name (${ok.error.issues[0]?.message ?? 'invalid'})`);
  return { modelName: arg };
}

/** "grid 7" or "grid 7 (latest of model \"demo\")" for messages about the grid a reference resolved to. */
export function describeGrid(gridId: number, ref: GridRef): string {
  return 'gridId' in ref ? `grid ${gridId}` : `grid ${gridId} (latest of model "${ref.modelName}")`;
}
