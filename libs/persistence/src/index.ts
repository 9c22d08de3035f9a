/** @pdr/persistence — the database of the state service: entities, migrations, SQL helpers. */
import 'reflect-metadata';

export * from './settings';
export * from './orm';
export * from './sql';
export * from './time';
export * from './status';
export * from './get-or-create';
export * from './installation';
export * from './entities';
export { MIGRATIONS } from './migrations';
export { testDatabaseSettings } from './testing';
