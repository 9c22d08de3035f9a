import { promises as fs, lstatSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { create } from 'tar';

/**
 * `tar -czf <archive> <entry>` (cwd `dir`) written in-process with node-tar (npm's own tar): a ustar/pax
 * archive of `entry` — regular files, directories and symlinks (not followed) — through zlib's gzip.
 * pdr_run built MCDRT<job>.tar.gz with Python's tarfile (pax by default; SPEC §5.10); GNU tar and
 * Python read this one alike (tar.spec.ts).
 *
 * In-process because spawning tar (which spawns gzip) cost every job two processes forked from the runner,
 * ~10 ms of CPU on an idle 2-core machine. node-tar replaced a hand-written writer (issue 11); measured on
 * the Out/ of a quick job (one small file), 300 archives in a row on the shared 2-core machine: node-tar
 * 1.1–1.3 ms of CPU each, the hand-written writer 0.9–1.1 ms — the difference is noise beside a job's
 * ~40 ms of runner CPU. node-tar's `sync` mode takes 0.55 ms, and is used for an Out/ of up to
 * SYNC_TAR_BYTES (below): a big one would block the event loop — heartbeats and the other slots — for as
 * long as it takes to compress.
 * Other entry types (fifos, sockets, devices), which node-tar would skip silently, have no place in a
 * model's output and are an error.
 */
export async function tarGz(dir: string, entry: string, archive: string): Promise<void> {
  const unsupported: string[] = [];
  try {
    lstatSync(path.join(dir, entry)); // the job directory: local scratch
    const options = {
      gzip: true,
      file: archive,
      cwd: dir,
      // no owner names, ids, inode numbers or atime/ctime (as the hand-written writer: uid/gid 0, no names)
      portable: true,
      // node-tar writes a pax mtime only for a Date it recognises with `instanceof`: one of this realm
      // (the stat's Date comes from Node's own, which differs inside Jest's sandbox)
      onWriteEntry: (e: { stat?: { mtime: Date }; mtime?: Date }) => {
        if (e.stat) e.mtime = new Date(e.stat.mtime.getTime());
      },
      filter: (p: string, st: object) => {
        const ok = 'isFile' in st && ((st as Stats).isFile() || (st as Stats).isDirectory() || (st as Stats).isSymbolicLink());
        if (!ok) unsupported.push(p);
        return ok;
      },
    };
    // A small Out/ (a quick job's) synchronously: ~0.5 ms, where the asynchronous archive took ~30 ms of
    // thread-pool round trips on the busy 2-core machine (npm run bench, issue 17). A big one asynchronously,
    // so compressing it never stalls the event loop (heartbeats, the other slots) for long.
    if (smallerThan(path.join(dir, entry), SYNC_TAR_BYTES)) create({ ...options, sync: true }, [entry]);
    else await create(options, [entry]);
    if (unsupported.length) throw new Error(unsupported.map((p) => `${p} is not a regular file, directory or symlink`).join('; '));
  } catch (err) {
    await fs.rm(archive, { force: true }).catch(() => undefined);
    throw new Error(`writing ${archive} from ${path.join(dir, entry)} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Total size of the files archived synchronously, at most (~5 ms of gzip). */
export const SYNC_TAR_BYTES = 256 * 1024;
/** Entries archived synchronously, at most. */
const SYNC_TAR_ENTRIES = 200;

/** The tree at `root` (local scratch: synchronous calls) holds fewer than SYNC_TAR_ENTRIES entries and `limit` bytes. */
function smallerThan(root: string, limit: number): boolean {
  let bytes = 0;
  let entries = 0;
  const walk = (p: string): boolean => {
    const st = lstatSync(p);
    bytes += st.isFile() ? st.size : 0;
    if (++entries > SYNC_TAR_ENTRIES || bytes >= limit) return false;
    return !st.isDirectory() || readdirSync(p).every((name) => walk(path.join(p, name)));
  };
  return walk(root);
}
