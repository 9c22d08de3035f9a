export type { StorageBackend, StorageProbe, StoredFile, StoredHead, StoreItem } from './backend';
export { StorageError, StoragePathError, describeError, errnoIsTransient, isTransientStorageError } from './errors';
export { LocalStorage, sha256File } from './local-storage';
export { SftpConnection, SftpStorage, type SftpConnectionOptions } from './sftp-storage';
export { closeRcloneDaemons, rcloneDaemonPids } from './rclone-daemon';
export { RcloneStorage, rcloneRemotePath, rcloneRemoteSecrets, maskRcloneRemote, splitRcloneRemote, type RcloneOptions } from './rclone-storage';
export { createStorage, closeStorageConnections, describeStorageSettings, type StorageRuntime } from './factory';
export { checkKnownHost } from './known-hosts';
export { mapBounded, storeEach, withTimeout } from './bounded';
export { filesystemKind, type FilesystemKind } from './filesystem';
export {
  MAX_NAME_LENGTH,
  assertSafeName,
  splitRelPath,
  onionOutputFileNames,
  storagePaths,
  type JobStoragePaths,
} from './paths';
export { checkStorage, probeStorage, type StorageCheckResult, type StorageProblem } from './check';
