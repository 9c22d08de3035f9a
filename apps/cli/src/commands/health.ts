import { Command } from 'commander';
import { HealthPingReply, SERVICES } from '@pdr/contracts';
import { messaging } from '../lazy';
import { CliContext, withSession } from '../context';
import { EXIT, exitWith, howToStart } from '../errors';
import { positiveInt } from './options';
import { formatTable } from '../output/table';
import { shortDate } from '../output/format';

export interface HealthReport {
  instances: HealthPingReply[];
  missing: (typeof SERVICES)[number][];
}

export function missingServices(instances: readonly HealthPingReply[]): (typeof SERVICES)[number][] {
  return SERVICES.filter((s) => !instances.some((i) => i.service === s));
}

/** One detail figure for the table: the state's pool as "used/size in use, N waiting", others as text or JSON. */
function detailValue(key: string, v: unknown): string {
  if (key === 'pool' && v && typeof v === 'object') {
    const p = v as { size?: number; used?: number; pendingAcquires?: number };
    return `${p.used ?? '?'}/${p.size ?? '?'}-in-use,${p.pendingAcquires ?? 0}-waiting`;
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function healthTable(instances: readonly HealthPingReply[]): string {
  const sorted = [...instances].sort((a, b) => SERVICES.indexOf(a.service) - SERVICES.indexOf(b.service) || a.instanceId.localeCompare(b.instanceId));
  return formatTable(
    [
      { header: 'SERVICE', value: (r: HealthPingReply) => r.service },
      { header: 'INSTANCE', value: (r) => r.instanceId },
      { header: 'VERSION', value: (r) => r.version },
      { header: 'STARTED', value: (r) => shortDate(r.startedAt) },
      { header: 'DETAIL', value: (r) => Object.entries(r.detail ?? {}).map(([k, v]) => `${k}=${detailValue(k, v)}`).join(' '), maxWidth: 80 },
    ],
    sorted,
  );
}

export async function runHealth(ctx: CliContext, opts: { json?: boolean; waitMs?: number }): Promise<number> {
  const instances = await withSession(ctx, (s) => messaging().collectHealth(s.nc, s.ns, opts.waitMs));
  const missing = missingServices(instances);
  if (opts.json) {
    ctx.io.out(JSON.stringify({ instances, missing }, null, 2));
  } else if (instances.length > 0) {
    ctx.io.out(healthTable(instances));
  } else {
    ctx.io.out('no service instance answered');
  }
  if (missing.length === 0) return EXIT.OK;
  for (const s of missing) ctx.io.err(`pdr: error: the ${s} service is not running; ${howToStart(s)}`);
  return EXIT.SERVICE_MISSING;
}

export function registerHealth(program: Command, ctx: () => CliContext): void {
  program
    .command('health')
    .description('list the running state, planner and runner instances; exit 3 naming each missing service')
    .option('--json', 'print the answers as JSON')
    .option('--wait <ms>', 'how long to collect answers (default 1000)', positiveInt)
    .action(async (opts: { json?: boolean; wait?: number }) => {
      exitWith(await runHealth(ctx(), { json: opts.json, waitMs: opts.wait }));
    });
}
