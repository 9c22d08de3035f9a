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

export interface StorageBackend {
  /** Human-readable description for logs (never contains secrets). */
  describe(): string;
  /** Copy a local file to `relPath` (atomically: readers never see a partial file). */
  store(localPath: string, relPath: string): Promise<StoredFile>;
  /** Copy `relPath` to the local file `localPath` (absolute). Missing file → StorageError. */
  retrieve(relPath: string, localPath: string): Promise<void>;
  /** True only when `relPath` is a regular file. Errors other than "not found" throw. */
  exists(relPath: string): Promise<boolean>;
  /** Metadata of a regular file (with its checksum), or null when it does not exist. */
  stat(relPath: string): Promise<StoredFile | null>;
  /**
   * Entry names directly inside `relDir` (`''` = the base), sorted; directories end with `/`
   * (as `rclone lsf` prints them). A missing directory gives `[]`.
   */
  list(relDir: string): Promise<string[]>;
}
