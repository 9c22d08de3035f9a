export type { StorageBackend, StoredFile } from './backend';
export { StorageError, StoragePathError, describeError } from './errors';
export { LocalStorage, sha256File } from './local-storage';
export { filesystemKind, type FilesystemKind } from './filesystem';
export {
  MAX_NAME_LENGTH,
  assertSafeName,
  splitRelPath,
  onionOutputFileNames,
  storagePaths,
  type JobStoragePaths,
} from './paths';
