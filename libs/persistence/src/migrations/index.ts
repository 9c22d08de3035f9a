import type { MigrationObject } from '@mikro-orm/core';
import { Migration20250601000000Initial } from './Migration20250601000000Initial';
import { Migration20250601000100JobFiles } from './Migration20250601000100JobFiles';
import { Migration20261126000000GridStatusIndex } from './Migration20261126000000GridStatusIndex';
import { Migration20261130000000Installation } from './Migration20261130000000Installation';
import { Migration20261130000000LegacyMerges } from './Migration20261130000000LegacyMerges';
import { Migration20261201000000GridCounts } from './Migration20261201000000GridCounts';

/**
 * Every migration, in order, listed explicitly (no globbing): they run the same from dist/, from
 * ts sources under jest, and from a bundled CLI. Append new migrations; never edit or reorder.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20250601000000Initial', class: Migration20250601000000Initial },
  { name: 'Migration20250601000100JobFiles', class: Migration20250601000100JobFiles },
  { name: 'Migration20261126000000GridStatusIndex', class: Migration20261126000000GridStatusIndex },
  { name: 'Migration20261130000000Installation', class: Migration20261130000000Installation },
  { name: 'Migration20261130000000LegacyMerges', class: Migration20261130000000LegacyMerges },
  { name: 'Migration20261201000000GridCounts', class: Migration20261201000000GridCounts },
];
