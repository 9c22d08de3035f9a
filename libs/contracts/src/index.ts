export * from './common';
export * from './grid';
export * from './job';
export * from './dispatch';
export * from './events';
export * from './subjects';
export * from './limits';
export * from './docs';
