/** @pdr/domain — pure KOSMA-tau domain code (parameters, encodings, grid, rendering, provenance). */
export * from './parameters/columns';
export * from './text/nearest';
export * from './encoding/encoding';
export * from './numeric/pow';
export * from './numeric/pyformat';
export { glibcPow, fma } from './numeric/glibc-pow';
export * from './grid/grid';
export * from './grid/random';
export * from './geometry/geometry';
export * from './parameters/row';
export * from './parameters/hash';
export * from './render/render';
export * from './render/inputs';
export * from './templates/locate';
export * from './provenance/version';
export * from './provenance/probe';
export * from './parameters/validate-grid';
export * from './preflight/preflight';
