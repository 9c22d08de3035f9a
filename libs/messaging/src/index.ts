export * from './client';
export * from './contract-server';
export * from './bootstrap';
