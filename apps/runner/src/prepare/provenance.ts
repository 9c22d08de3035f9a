import { stat } from 'fs/promises';
import { join } from 'path';
import { ExecutableInfo } from '@pdr/contracts';
import { probeExecutable } from '@pdr/domain';

/** `--version` of an executable may hang: it gets this long. */
const VERSION_TIMEOUT_MS = 10_000;

/**
 * Provenance of the executables a job uses, probed once per file version (path + size + mtime) for the
 * life of the runner: `--version` is run once per executable, not per job (pdr_run ran it twice per grid).
 */
export class ProvenanceCache {
  private cache = new Map<string, Promise<ExecutableInfo>>();

  async get(role: ExecutableInfo['role'], baseDir: string, fileName: string): Promise<ExecutableInfo> {
    const fullPath = join(baseDir, fileName);
    const st = await stat(fullPath).catch(() => null);
    const key = `${role}:${fullPath}:${st?.size}:${st?.mtimeMs}`;
    let p = this.cache.get(key);
    if (!p) {
      p = probeExecutable(fullPath, { timeoutMs: VERSION_TIMEOUT_MS }).then((r) => ({
        role,
        fileName,
        fullPath,
        sha256: r.sha256,
        revision: r.revision === null ? null : r.revision.slice(0, 50),
        compilationDate: r.compilationDate ? r.compilationDate.toISOString() : null,
        reasons: r.reasons,
      }));
      this.cache.set(key, p);
    }
    return p;
  }
}
