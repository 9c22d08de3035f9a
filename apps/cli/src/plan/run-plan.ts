import * as fs from 'fs';
import * as path from 'path';
import { axisValue, gridRequest, GridRequest, LIMITS, Point, SAFE_NAME_RULE, safeName, type StorageSettings } from '@pdr/contracts';
import { describeStorageSettings, maskRcloneRemote, rcloneRemoteSecrets } from '@pdr/storage';
import { ConfigFlags, describeConfig, EffectiveConfig, LoadedConfig, requireRunSettings } from '@pdr/config';
import { loadRunConfig } from './run-config';
import { DEFAULT_MAX_POINTS, DEFAULT_ONION_TIMEOUT_S, DEFAULT_PDR_TIMEOUT_S, DRY_RUN_SHOWN_POINTS } from './defaults';
import { axesOfMode, gridSize, GridAxes, GridPoint, iterateGrid, newSeed, normalizeAxes, randomGrid, validateGridPhysics } from '@pdr/domain';
import { UsageError } from '../errors';

/** Every flag of `pdr run` (pdr_run's flags plus the submission flags). */
export interface RunFlags {
  config?: string;
  modelName?: string;
  single?: boolean;
  grid?: boolean;
  parallel?: boolean;
  workers?: number;
  cpus?: number;
  forceOnion?: boolean;
  keepTmp?: boolean;
  metal?: string[];
  dens?: string[];
  mass?: string[];
  chi?: string[];
  species?: string[];
  /** `--random` alone: the config's random_model_num; `--random N`: N points. */
  random?: number | true;
  jsonTemplate?: string;
  dryRun?: boolean;
  detach?: boolean;
  retryFailed?: boolean;
  seed?: number;
  maxPoints?: number;
  pdrTimeout?: number;
  onionTimeout?: number;
  verbose?: boolean;
  /** The runners are on other machines: base-dir checks are warnings (pdr.remote_runners). */
  remoteRunners?: boolean;
  /** The run uses pdr_config.json alone (pdr.json_only). */
  jsonOnly?: boolean;
  /** Reasons in the final summary are not cut. */
  wide?: boolean;
  /** false (`--no-storage-check`): submit without the storage check. */
  storageCheck?: boolean;
}

export { DEFAULT_MAX_POINTS, DEFAULT_PDR_TIMEOUT_S, DEFAULT_ONION_TIMEOUT_S, DRY_RUN_SHOWN_POINTS };

export interface PlannedRun {
  loaded: LoadedConfig;
  request: GridRequest;
  /** Points the grid will have (single mode: 1; random: N). */
  total: number;
  /** The first points in planning order (at most `shown`). */
  firstPoints: GridPoint[];
  /** Seed of a random grid, else null. */
  seed: number | null;
  maxPoints: number;
  /** `<storage base>/<model name>` */
  storagePath: string;
  /** One-line messages for stderr (config warnings, flags without effect). */
  warnings: string[];
  /** --remote-runners or pdr.remote_runners: the preflight's base-dir checks are warnings. */
  remoteRunners: boolean;
}

const AXES = ['metal', 'dens', 'mass', 'chi'] as const;

/** The flags that are configuration keys, in the shape @pdr/config expects (flag > env > file > default). */
export function configFlagsOf(f: RunFlags): ConfigFlags {
  const flags: ConfigFlags = {};
  const pdr: Record<string, unknown> = {};
  if (f.modelName !== undefined) pdr.model_name = f.modelName;
  if (f.jsonTemplate !== undefined) pdr.json_template = f.jsonTemplate;
  if (f.remoteRunners) pdr.remote_runners = true;
  if (f.jsonOnly) pdr.json_only = true;
  if (Object.keys(pdr).length > 0) flags.pdr = pdr as ConfigFlags['pdr'];
  const mp: Record<string, unknown> = {};
  for (const a of AXES) if (f[a] !== undefined) mp[a] = f[a];
  if (f.species !== undefined) mp.species = f.species;
  if (f.random !== undefined) {
    mp.create_random_models = true;
    if (f.random !== true) mp.random_model_num = f.random;
  }
  if (Object.keys(mp).length > 0) flags.model_parameters = mp as ConfigFlags['model_parameters'];
  return flags;
}

/** Axis values from flags are checked first, so the message names the flag. */
function checkAxisFlags(f: RunFlags): void {
  for (const a of AXES) {
    for (const v of f[a] ?? []) {
      if (!axisValue.safeParse(v).success) {
        throw new UsageError(
          `--${a} "${v}": not a grid value; write the pdr_run encoding as a decimal number such as "30", "-10", "3.5" or "1e2" (no units, no expressions)`,
        );
      }
    }
  }
  for (const s of f.species ?? []) {
    if (!safeName.safeParse(s).success) throw new UsageError(`--species "${s}": not a species name (${SAFE_NAME_RULE})`);
  }
}

/** A zod issue path of the grid request, in the words of the configuration. */
function configKeyOf(p: readonly PropertyKey[]): string {
  const [a, b, c] = p.map(String);
  if (a === 'axes') return `model_parameters.${b}${c !== undefined ? `[${c}]` : ''}`;
  if (a === 'modelName') return 'pdr.model_name';
  if (a === 'onionSpecies') return `model_parameters.species${b !== undefined ? `[${b}]` : ''}`;
  if (a === 'physics') return b === 'nonDefault' ? `non_default_parameters${c ? `.${c}` : ''}` : `model_parameters.${b}`;
  if (a === 'user') return `user.${b}`;
  if (a === 'run') {
    const map: Record<string, string> = {
      baseDir: 'pdr.base_dir',
      pdrFileName: 'pdr.pdr_file_name',
      onionFileName: 'pdr.onion_file_name',
      chemDatabase: 'pdr.chem_database',
      pdrinpTemplateFile: 'pdr.pdrinp_template_file',
      jsonTemplateFile: 'pdr.json_template_file',
      jsonTemplateOverride: '--json-template',
      storage: 'storage.base_dir',
    };
    return map[b] ?? `run.${b}`;
  }
  if (a === 'chemOrigin') return 'pdr.chem_origin';
  return p.map(String).join('.');
}

function valueAt(obj: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = obj;
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Timeout seconds → ms for the contract (positive integer). */
function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

export interface PlanOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  now?: Date;
  /** How many points to list (dry run). */
  shown?: number;
}

/**
 * Everything `pdr run` decides before contacting a service: the effective configuration, the grid
 * request of the contract, validated with the domain library exactly as the planner and state will
 * (bad axis values, unknown physics keys, impossible geometry → one clear error), the point count.
 */
export function planRun(f: RunFlags, opts: PlanOptions): PlannedRun {
  if (f.single && f.grid) throw new UsageError('--single and --grid cannot be used together');
  checkAxisFlags(f);
  const loaded = loadRunConfig({ file: f.config, env: opts.env, flags: configFlagsOf(f), cwd: opts.cwd, now: opts.now });
  const warnings = [...loaded.warnings];
  const request = buildGridRequest(loaded.config, f, warnings, loaded.sources);

  const maxPoints = f.maxPoints ?? DEFAULT_MAX_POINTS;
  const shown = opts.shown ?? DRY_RUN_SHOWN_POINTS;
  const mp = loaded.config.model_parameters;
  let seed: number | null = null;
  let total: number;
  let firstPoints: GridPoint[];
  if (mp.create_random_models) {
    seed = f.seed ?? newSeed();
    const n = mp.random_model_num;
    if (n > maxPoints) throw new UsageError(`random grid of ${n} points is larger than --max-points ${maxPoints}`);
    const pts = randomGrid(request.axes, n, seed);
    request.random = { count: n, seed };
    total = pts.length;
    firstPoints = pts.slice(0, shown);
  } else {
    if (f.seed !== undefined) warnings.push('--seed has no effect without --random (a Cartesian grid has no randomness)');
    const normalized = normalizeAxes(request.axes);
    for (const d of normalized.dropped) {
      warnings.push(`model_parameters.${d.axis}: "${d.value}" is the same value as "${d.sameAs}"; the point is planned once`);
    }
    const axes: GridAxes = axesOfMode(normalized.axes, request.mode);
    total = gridSize(axes);
    if (total > maxPoints) {
      throw new UsageError(
        `the grid has ${total} points (${AXES.map((a) => `${axes[a].length} ${a}`).join(' × ')}), more than --max-points ${maxPoints}; raise --max-points if this is intended`,
      );
    }
    firstPoints = [];
    for (const p of iterateGrid(axes)) {
      if (firstPoints.length >= shown) break;
      firstPoints.push(p);
    }
  }
  validateGridPhysics(request.axes, request.physics);
  const st = request.run.storage;
  const storagePath = st.type === 'local' ? path.join(st.baseDir, request.modelName) : `${describeStorageSettings(st).replace(/\/$/, '')}/${request.modelName}`;
  return { loaded, request, total, firstPoints, seed, maxPoints, storagePath, warnings, remoteRunners: loaded.config.pdr.remote_runners === true };
}

/**
 * The grid's storage settings for the runners (contract `run.storage`) from the storage section. Secrets stay
 * out: they would land in the grid's database row; the runners take them from their own environment.
 */
export function storageSettingsOf(config: EffectiveConfig, warnings: string[], sources: LoadedConfig['sources'] = {}): StorageSettings {
  const st = config.storage;
  switch (st.type) {
    case 'local':
      return { type: 'local', baseDir: st.base_dir as string };
    case 'sftp': {
      if (!st.username) throw new UsageError('storage.username is required for storage type sftp (config file or PDR_STORAGE_USER)');
      const fromConfig = (k: string) => sources[k] === 'file' || sources[k] === 'flag';
      if ((st.password && fromConfig('storage.password')) || (st.key_passphrase && fromConfig('storage.key_passphrase'))) {
        warnings.push(
          'storage: the password / key passphrase is not sent to the runners (it would be stored with the grid); ' +
            'runners take it from PDR_STORAGE_PASSWORD / PDR_STORAGE_KEY_PASSPHRASE in their environment (pdr up --config passes it on)',
        );
      }
      return {
        type: 'sftp',
        host: st.host as string,
        port: st.port ?? 22,
        username: st.username,
        baseDir: st.base_dir as string,
        privateKeyFile: st.key_file ?? null,
        knownHostsFile: st.known_hosts_file ?? null,
        hostKeyCheck: st.host_key_check !== false,
      };
    }
    case 'rclone': {
      const remote = st.rclone_remote as string;
      let secrets: string[];
      try {
        secrets = rcloneRemoteSecrets(remote);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (secrets.length) {
        throw new UsageError(
          `storage.rclone_remote ${maskRcloneRemote(remote)}: carries ${secrets.join(', ')}, which would be stored with the grid; ` +
            "put it in the runners' rclone.conf or RCLONE_CONFIG_* variables",
        );
      }
      return { type: 'rclone', remote, baseDir: st.base_dir as string, remotePathPrefix: st.remote_path_prefix ?? null };
    }
    default:
      throw new UsageError(`storage.type "${st.type}": pdr_run's generic "remote" backend was never implemented; use sftp (same host, username, password keys)`);
  }
}

/** Builds the contract's grid request from the effective configuration and the run flags; validates it with the contract schema. */
export function buildGridRequest(config: EffectiveConfig, f: RunFlags, warnings: string[], sources: LoadedConfig['sources'] = {}): GridRequest {
  requireRunSettings(config);
  const storage = storageSettingsOf(config, warnings, sources);
  const jsonTemplate = config.pdr.json_template;
  if (jsonTemplate !== undefined) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(jsonTemplate);
    } catch {
      throw new UsageError(`--json-template ${jsonTemplate}: file not found`);
    }
    if (!stat.isFile()) throw new UsageError(`--json-template ${jsonTemplate}: not a file`);
  }
  // Whether the base dir and its files exist is the preflight's to say (apps/cli/src/preflight), after planning.
  const baseDir = config.pdr.base_dir as string;
  const mp = config.model_parameters;
  const raw = {
    modelName: config.pdr.model_name,
    description: null,
    axes: { metal: mp.metal, dens: mp.dens, mass: mp.mass, chi: mp.chi },
    mode: f.single ? 'single' : 'grid',
    random: null,
    user: { username: config.user.username || 'unknown', email: config.user.email || 'unknown' },
    chemOrigin: config.pdr.chem_origin ?? null,
    physics: { alpha: mp.alpha, rcore: mp.rcore, chemistry: mp.chemistry, nonDefault: config.non_default_parameters },
    onionSpecies: mp.species,
    run: {
      baseDir,
      pdrFileName: config.pdr.pdr_file_name,
      onionFileName: config.pdr.onion_file_name,
      chemDatabase: config.pdr.chem_database,
      pdrinpTemplateFile: config.pdr.pdrinp_template_file,
      jsonTemplateFile: config.pdr.json_template_file,
      jsonTemplateOverride: jsonTemplate ?? null,
      storage,
      forceOnion: f.forceOnion === true,
      keepTmp: f.keepTmp === true,
      ...(config.pdr.json_only ? { jsonOnly: true } : {}),
      timeouts: { pdrMs: toMs(f.pdrTimeout ?? DEFAULT_PDR_TIMEOUT_S), onionMs: toMs(f.onionTimeout ?? DEFAULT_ONION_TIMEOUT_S) },
    },
  };
  const parsed = gridRequest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const v = valueAt(raw, issue.path);
    const shownValue = typeof v === 'string' || typeof v === 'number' ? ` "${String(v)}"` : '';
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
    throw new UsageError(`${configKeyOf(issue.path)}${shownValue}: ${issue.message}${more}`);
  }
  if (mp.species.length === 0) throw new UsageError('model_parameters.species: no onion species given');
  return parsed.data;
}

/** The points as the contract's tuples (for tests and the summary). */
export function pointTuple(p: GridPoint): Point {
  return [p.metal, p.dens, p.mass, p.chi];
}

/** The text of `pdr run --dry-run`: the effective configuration (secrets masked) and the planned points. */
export function dryRunText(plan: PlannedRun, f: RunFlags, env: NodeJS.ProcessEnv): string {
  const r = plan.request;
  const header: [string, string][] = [
    [
      'Execution mode',
      `${r.random ? `random grid of ${r.random.count} points` : r.mode === 'single' ? 'single model (first value of each axis)' : 'Cartesian grid'}, submitted to the planner; the runners' slots decide the parallelism`,
    ],
    ['Storage path', plan.storagePath],
    ['Max points', String(plan.maxPoints)],
    ['Force onion', String(r.run.forceOnion)],
    ['Keep temp dirs', String(r.run.keepTmp)],
    ['PDR timeout', `${r.run.timeouts.pdrMs / 1000} s`],
    ['Onion timeout', `${r.run.timeouts.onionMs / 1000} s`],
  ];
  if (f.retryFailed) header.push(['Retry failed', 'true']);
  // The database section is read by the state service, not by pdr run: not shown, never used here.
  const { database: _database, ...shown } = plan.loaded.config;
  let text = describeConfig(shown as EffectiveConfig, plan.loaded.sources, { header, env });
  text = text.replace('=== END CONFIGURATION ===', '[database] not used by pdr run (the state service reads it: pdr up --config)\n=== END CONFIGURATION ===');
  const lines = ['=== PLANNED POINTS ==='];
  lines.push(`Points: ${plan.total}`);
  if (plan.seed !== null) lines.push(`Random seed: ${plan.seed} (reproduce with --seed ${plan.seed})`);
  lines.push(`Onion species (${r.onionSpecies.length}): ${r.onionSpecies.join(' ')}`);
  for (const p of plan.firstPoints) lines.push(`  ${p.jobName}`);
  if (plan.total > plan.firstPoints.length) lines.push(`  … and ${plan.total - plan.firstPoints.length} more`);
  lines.push('=== END PLANNED POINTS ===');
  text += lines.join('\n');
  return text;
}

/** Upper bound of the time the planner needs to persist and queue `total` points. */
export function submitTimeoutMs(total: number): number {
  return LIMITS.BATCH_REQUEST_TIMEOUT_MS * (Math.ceil(total / LIMITS.PLANNER_BATCH_POINTS) + 1);
}
