/** @pdr/persistence — the database of the state service: entities, migrations, SQL helpers. */
import 'reflect-metadata';

export * from './settings';
export * from './orm';
export * from './sql';
export * from './packet-transaction';
export * from './time';
export * from './status';
export * from './get-or-create';
export * from './installation';
export * from './entities';
export { MIGRATIONS } from './migrations';
export { LegacySchemaError, inspectSchema, assertNotLegacy, INITIAL_MIGRATION } from './legacy/detect';
export type { SchemaKind, SchemaState } from './legacy/detect';
export { upgradeDatabase, backupCommand, mapLegacyStatus, KEPT_STATUSES } from './legacy/upgrade';
export { targetTables } from './legacy/target-schema';
export { adoptLegacyJobs, legacyGridHash } from './legacy/legacy-grid';
export type { UpgradeOptions, UpgradeResult } from './legacy/upgrade';
export * from './legacy/merge-plan';
export { PDR_RUN_TABLES } from './legacy/target-schema';
export { GRID_COUNT_TRIGGERS, gridCountTriggers, reseedGridCounts, restoreGridCountTriggers } from './grid-counts';
