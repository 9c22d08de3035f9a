import { StoragePathError } from './errors';

/** Longest accepted model name, job name, species or file name (room for prefixes within NAME_MAX). */
export const MAX_NAME_LENGTH = 200;

/**
 * Check that `value` can be used as ONE path segment (model name, job name, species, file name):
 * non-empty, at most 200 characters, no `/`, `\`, `..`, NUL or other control characters, no
 * leading dot. Throws `StoragePathError` naming the value and what it is.
 */
export function assertSafeName(value: unknown, what: string): string {
  const fail = (reason: string): never => {
    throw new StoragePathError(String(value), `${what} ${reason}`);
  };
  if (typeof value !== 'string') return fail(`must be a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length === 0) return fail('must not be empty');
  if (value.length > MAX_NAME_LENGTH) return fail(`is longer than ${MAX_NAME_LENGTH} characters`);
  if (value.includes('\0')) return fail('contains a NUL byte');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return fail('contains a control character');
  if (value.includes('/')) return fail('contains "/"');
  if (value.includes('\\')) return fail('contains "\\"');
  if (value.includes('..')) return fail('contains ".."');
  if (value.startsWith('.')) return fail('starts with "."');
  if (value.trim() !== value) return fail('has leading or trailing whitespace');
  return value;
}

/**
 * Validate a storage-relative path and return its segments. Rejects absolute paths, `\`, NUL,
 * empty segments (leading, trailing or doubled `/`), `.` and `..` segments. With `allowEmpty`,
 * `''` (the storage base itself) is accepted and gives `[]`.
 */
export function splitRelPath(relPath: unknown, allowEmpty = false): string[] {
  if (typeof relPath !== 'string') throw new StoragePathError(String(relPath), 'must be a string');
  if (relPath === '') {
    if (allowEmpty) return [];
    throw new StoragePathError(relPath, 'must not be empty');
  }
  if (relPath.includes('\0')) throw new StoragePathError(relPath, 'contains a NUL byte');
  if (relPath.includes('\\')) throw new StoragePathError(relPath, 'contains "\\" (use "/" as separator)');
  if (relPath.startsWith('/') || /^[A-Za-z]:/.test(relPath)) {
    throw new StoragePathError(relPath, 'is absolute; storage paths are relative to the storage base');
  }
  const segments = relPath.split('/');
  for (const seg of segments) {
    if (seg === '') throw new StoragePathError(relPath, 'has an empty segment ("//" or a leading/trailing "/")');
    if (seg === '.' || seg === '..') throw new StoragePathError(relPath, `has a "${seg}" segment`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(seg)) throw new StoragePathError(relPath, 'contains a control character');
  }
  return segments;
}

/** The six per-species onion output files of SPEC §5.10, as onion names them in `onionoutput/`. */
export function onionOutputFileNames(species: string): string[] {
  assertSafeName(species, 'species');
  return [
    `jerg_${species}.smli`,
    `jerg_${species}.srli`,
    `jtemp_${species}.smli`,
    `jtemp_${species}.smlc`,
    `linebt_${species}.out`,
    `ONION3_${species}.OUT`,
  ];
}

/** Storage-relative names of one job's outputs (SPEC §5.10–5.11, DESIGN "Storage tree", fixed). */
export interface JobStoragePaths {
  readonly modelName: string;
  readonly jobName: string;
  /** `<model>/pdrgrid` */
  readonly pdrDir: string;
  /** `<model>/oniongrid` */
  readonly onionDir: string;
  /** `pdroutput/pdrout.hdf` → `pdr<job>.hdf` */
  readonly hdf4: string;
  /** `pdroutput/pdrstruct_s.hdf5` → `pdrstruct<job>.hdf5` */
  readonly hdf5Struct: string;
  /** `pdroutput/pdrchem_c.hdf5` → `pdrchem<job>.hdf5` */
  readonly hdf5Chem: string;
  /** `pdroutput/chemchk.out` → `chemchk<job>.out` */
  readonly chemchk: string;
  /** `pdroutput/TEXTOUT` → `TEXTOUT<job>` */
  readonly textout: string;
  /** tar.gz of `Out/` → `MCDRT<job>.tar.gz` */
  readonly mcdrt: string;
  /** `PDRNEW.INP` → `PDRNEW<job>.INP` */
  readonly pdrnew: string;
  /** `pdr_config.json` → `pdr_config<job>.json` */
  readonly json: string;
  /** `pdroutput/CTRL_IND` → `CTRL_IND<job>` */
  readonly ctrlInd: string;
  /** `onionoutput/<file>` → `<model>/oniongrid/ONION<job>.<file>` (file validated as a plain name). */
  onionFile(file: string): string;
  /** `onionoutput/TEXTOUT` of one species → `<model>/oniongrid/TEXTOUT<job>_<species>`. */
  onionTextout(species: string): string;
  /** All onion names of one species: the six files of SPEC §5.10 plus its TEXTOUT. */
  onionFiles(species: string): string[];
}

/** pdr_run's exact storage names for a job; model and job names are validated (StoragePathError). */
export function storagePaths(modelName: string, jobName: string): JobStoragePaths {
  assertSafeName(modelName, 'model name');
  assertSafeName(jobName, 'job name');
  const pdrDir = `${modelName}/pdrgrid`;
  const onionDir = `${modelName}/oniongrid`;
  const onionFile = (file: string): string => `${onionDir}/ONION${jobName}.${assertSafeName(file, 'onion output file name')}`;
  const onionTextout = (species: string): string => `${onionDir}/TEXTOUT${jobName}_${assertSafeName(species, 'species')}`;
  return Object.freeze({
    modelName,
    jobName,
    pdrDir,
    onionDir,
    hdf4: `${pdrDir}/pdr${jobName}.hdf`,
    hdf5Struct: `${pdrDir}/pdrstruct${jobName}.hdf5`,
    hdf5Chem: `${pdrDir}/pdrchem${jobName}.hdf5`,
    chemchk: `${pdrDir}/chemchk${jobName}.out`,
    textout: `${pdrDir}/TEXTOUT${jobName}`,
    mcdrt: `${pdrDir}/MCDRT${jobName}.tar.gz`,
    pdrnew: `${pdrDir}/PDRNEW${jobName}.INP`,
    json: `${pdrDir}/pdr_config${jobName}.json`,
    ctrlInd: `${pdrDir}/CTRL_IND${jobName}`,
    onionFile,
    onionTextout,
    onionFiles: (species: string): string[] => [...onionOutputFileNames(species).map(onionFile), onionTextout(species)],
  });
}
