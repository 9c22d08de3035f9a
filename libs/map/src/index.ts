export * from './model';
export * from './view';
export * from './text';
