/** @pdr/config — pdr_run-compatible configuration: YAML file + PDR_* environment + flags, one precedence. */
export { ConfigError } from './errors';
export { loadConfig, requireRunSettings, resolvePath, sectionFromEnv, ENV_VARS } from './load';
export type { LoadConfigOptions, LoadedConfig } from './load';
export { describeConfig } from './describe';
export type { DescribeOptions } from './describe';
export { databaseSettingsFromEnv } from './database';
export type { DatabaseSettings, DatabaseSettingsOptions } from './database';
export {
  DB_TYPES,
  SUPPORTED_DB_TYPES,
  STORAGE_TYPES,
  SECTION_NAMES,
  SECTION_ALIASES,
  TOP_LEVEL_KEYS,
  FIXED_DIRECTORIES,
  builtInDefaults,
  defaultModelName,
} from './schema';
export type {
  ConfigFlags,
  ConfigSource,
  DatabaseConfig,
  DbType,
  DirectoriesConfig,
  EffectiveConfig,
  ModelParameters,
  NonDefaultParameters,
  PdrConfig,
  SectionName,
  StorageConfig,
  StorageType,
  UserConfig,
} from './schema';
export { natsSettingsFromEnv, checkNatsConfig, NATS_ENV_VARS } from './nats';
export type { NatsSettingsOptions } from './nats';
export type { NatsConfig, SlurmConfig } from './schema';
