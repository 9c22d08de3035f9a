import { statfsSync } from 'node:fs';

/**
 * Linux filesystem magic numbers (statfs f_type) of filesystems on a local disk or in memory. Anything
 * else — NFS, Lustre, GPFS, CephFS, CIFS/SMB, FUSE mounts such as sshfs or rclone — may hang for as long as
 * its server does.
 */
const LOCAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext2/3/4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x2fc12fc1, 'zfs'],
  [0x794c7630, 'overlayfs'],
  [0xf2f52010, 'f2fs'],
  [0xca451a4e, 'bcachefs'],
  [0x3153464a, 'jfs'],
  [0x52654973, 'reiserfs'],
]);

/** Kernel pseudo filesystems: never a place for stored files (mkdir there fails or, in Node, loops). */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6e736673, 'nsfs'],
  [0xcafe4a11, 'bpf'],
]);

export interface FilesystemKind {
  /** On a local disk or in memory: a metadata call or a small read/write takes microseconds. */
  local: boolean;
  /** A name for messages: the filesystem's name, or its magic number in hex. */
  name: string;
  /** A kernel pseudo filesystem (procfs, sysfs…): nothing can be stored there. */
  pseudo?: boolean;
}

/**
 * What kind of filesystem `path` (which must exist) is on. Local filesystems get synchronous calls where
 * the thread pool's hand-offs would cost more than the call; anything else (or an error) counts as remote,
 * so a hanging server can never block a service's event loop.
 */
export function filesystemKind(path: string): FilesystemKind {
  if (process.platform !== 'linux') return { local: false, name: `not checked on ${process.platform}` };
  try {
    const type = Number(statfsSync(path).type) >>> 0;
    const name = LOCAL_FILESYSTEMS.get(type);
    if (name) return { local: true, name };
    const pseudo = PSEUDO_FILESYSTEMS.get(type);
    if (pseudo) return { local: false, name: pseudo, pseudo: true };
    return { local: false, name: `0x${type.toString(16)}` };
  } catch {
    return { local: false, name: 'unknown' };
  }
}
