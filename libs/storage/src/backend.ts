/**
 * The storage seam of the runner. Paths given to a backend are RELATIVE to the backend's base
 * (e.g. `mymodel/pdrgrid/pdr100_30_-10_10_00.hdf`, always `/`-separated); a backend never accepts
 * an absolute or escaping path (SPEC §11 defects 11 and 25). Every method is async and reports
 * failure by throwing `StorageError` — never by returning a boolean — so local, SFTP and rclone
 * backends are interchangeable.
 */
export interface StoredFile {
  /** Path relative to the storage base, `/`-separated. */
  relPath: string;
  /** Where the file lives, as the backend names it (absolute local path, `sftp://…`, `remote:…`). */
  fullPath: string;
  size: number;
  mtime: Date;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

/** A stored file's metadata read WITHOUT its content (StorageBackend.head). */
export interface StoredHead {
  relPath: string;
  fullPath: string;
  size: number;
  mtime: Date;
  /** Hashes the storage computes itself, lower-case hex by rclone's names (`md5`, `sha1`); often none. */
  hashes: Record<string, string>;
}

/** One file of a `storeMany` call. */
export interface StoreItem {
  /** Absolute path of the local file. */
  localPath: string;
  /** Where it goes, relative to the storage base. */
  relPath: string;
  /**
   * Visible only after every file of the call without `last` is stored (the files of the runner's "already
   * stored" check: their presence must imply the others').
   */
  last?: boolean;
}

/** What a read-only probe found (StorageBackend.probe): nothing was written. */
export interface StorageProbe {
  /** The folder exists (false: a store would create it). */
  exists: boolean;
  /** Writable as far as the backend can tell without writing; 'unknown' where it cannot tell. */
  writable: boolean | 'unknown';
  /** One line: what was checked and found (never a secret). */
  detail: string;
}

export interface StorageBackend {
  /** Human-readable description for logs and reasons: backend, host, base (never contains secrets). */
  describe(): string;
  /**
   * Copy a local file to `relPath` atomically (readers never see a partial file under its final name) and
   * verified (size always; each backend says which hash it checks). The sha256 is of the bytes sent.
   */
  store(localPath: string, relPath: string): Promise<StoredFile>;
  /**
   * Store several files (one job's outputs) as the backend does it best: a bounded number at once, or a few
   * rclone calls for all. Files marked `last` only after all others are stored. Every file is finished
   * (stored or failed) before it returns; the first failure is thrown, and files already stored stay
   * stored (a failure before the `last` files stores none of them). Result in the order of `items`.
   */
  storeMany(items: readonly StoreItem[]): Promise<StoredFile[]>;
  /** Remove the file `relPath`; a missing file is not an error. */
  remove(relPath: string): Promise<void>;
  /**
   * Read-only check of the folder `relDir` (`''` = the base) for `pdr check` and `pdr run --dry-run`:
   * connect, authenticate, find the folder or its nearest existing parent, and judge by its permissions
   * whether a store could write there. Writes nothing. Connection and authentication failures throw.
   */
  probe?(relDir: string): Promise<StorageProbe>;
  /** Release connections (a runner at shutdown); the backend must not be used afterwards. */
  close?(): Promise<void>;
  /** Copy `relPath` to the local file `localPath` (absolute). Missing file → StorageError. */
  retrieve(relPath: string, localPath: string): Promise<void>;
  /** True only when `relPath` is a regular file. Errors other than "not found" throw. */
  exists(relPath: string): Promise<boolean>;
  /** Metadata of a regular file (with its checksum), or null when it does not exist. */
  stat(relPath: string): Promise<StoredFile | null>;
  /**
   * Metadata of a regular file without reading its content (size, time, the storage's own hashes), or null
   * when it does not exist. The runner's "already stored" check compares it with what the database recorded
   * when the file was stored, instead of reading every file back. Backends where reading is as cheap as
   * this (local) need not have it: the check then uses `stat`.
   */
  head?(relPath: string): Promise<StoredHead | null>;
  /**
   * Entry names directly inside `relDir` (`''` = the base), sorted; directories end with `/`
   * (as `rclone lsf` prints them). A missing directory gives `[]`.
   */
  list(relDir: string): Promise<string[]>;
}
