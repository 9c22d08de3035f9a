import { Command } from 'commander';
import type { StorageSettings } from '@pdr/contracts';
import type { EffectiveConfig } from '@pdr/config';
import { CliContext } from '../context';
import { CliError, EXIT, exitWith, UsageError } from '../errors';
import { warningLine } from '../output/io';

/**
 * The environment a storage check runs with: the CLI's own, plus the password / key passphrase of the
 * config (the runners get them from their environment; here the config may hold them).
 */
export function storageCheckEnv(config: EffectiveConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  if (config.storage.password) out.PDR_STORAGE_PASSWORD = config.storage.password;
  if (config.storage.key_passphrase) out.PDR_STORAGE_KEY_PASSPHRASE = config.storage.key_passphrase;
  return out;
}

/**
 * Runs the storage check (libs/storage checkStorage) and turns a failure into the CLI's error: exit 3 when
 * the storage cannot be reached now (like a service that is not running), 2 for a setting to fix.
 */
export async function requireStorage(ctx: CliContext, settings: StorageSettings, modelName: string, config: EffectiveConfig): Promise<string> {
  const { checkStorage } = require('@pdr/storage') as typeof import('@pdr/storage');
  const r = await checkStorage(settings, modelName, { env: storageCheckEnv(config, ctx.env) });
  if (r.ok) return r.message;
  throw new CliError(r.message, r.transient || r.problem === 'unreachable' ? EXIT.SERVICE_MISSING : EXIT.USAGE);
}

export async function runStorageCheck(ctx: CliContext, o: { config?: string; modelName?: string }): Promise<number> {
  const { loadRunConfig } = require('../plan/run-config') as typeof import('../plan/run-config');
  const { storageSettingsOf } = require('../plan/run-plan') as typeof import('../plan/run-plan');
  const loaded = loadRunConfig({ file: o.config, env: ctx.env, cwd: ctx.cwd, flags: o.modelName ? { pdr: { model_name: o.modelName } } : undefined });
  const st = loaded.config.storage;
  const missing: string[] = [];
  if (st.type !== 'local' && !st.base_dir) missing.push(`storage.base_dir is required for storage type '${st.type}'`);
  if (st.type === 'sftp' && !st.host) missing.push("storage.host is required for storage type 'sftp'");
  if (st.type === 'rclone' && !st.rclone_remote) missing.push("storage.rclone_remote is required for storage type 'rclone'");
  if (missing.length) throw new UsageError(missing.join('; '));
  const warnings: string[] = [];
  const settings = storageSettingsOf(loaded.config, warnings);
  for (const w of loaded.warnings) ctx.io.err(warningLine(w));
  ctx.io.out(await requireStorage(ctx, settings, loaded.config.pdr.model_name, loaded.config));
  return EXIT.OK;
}

export function registerStorage(program: Command, ctx: () => CliContext): void {
  const storage = program.command('storage').description("the grid's storage backend (local, sftp, rclone)");
  storage
    .command('check')
    .description("write, read back, verify and delete a probe file under the model's folder with the config's storage settings; one line says what works or what does not")
    .option('--config <file>', 'YAML config file (pdr_run format), relative to the current directory')
    .option('--model-name <name>', 'model folder to probe (default: pdr.model_name)')
    .action(async (opts: { config?: string; modelName?: string }) => {
      exitWith(await runStorageCheck(ctx(), opts));
    });
}
