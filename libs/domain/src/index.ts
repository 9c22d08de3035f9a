/** @pdr/domain — pure KOSMA-tau domain code (parameters, encodings, grid, rendering, provenance). */
export * from './parameters/columns';
export * from './text/nearest';
