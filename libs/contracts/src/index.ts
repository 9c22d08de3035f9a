export * from './common';
export * from './grid';
export * from './job';
export * from './events';
export * from './subjects';
export * from './limits';
export * from './docs';
export * from './permissions';
