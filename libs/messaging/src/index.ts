export * from './connection';
export * from './codec';
export * from './errors';
export * from './contract-server';
export * from './contract-client';
export * from './health';
export * from './job-stream';
export * from './bootstrap';
