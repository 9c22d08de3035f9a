import { promises as fs } from 'node:fs';
import * as path from 'node:path';
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
 * ~40 ms of runner CPU. (node-tar's `sync` mode took 0.55 ms but would block the event loop — heartbeats
 * and the other slots — for as long as a big Out/ takes to compress.)
 * Other entry types (fifos, sockets, devices), which node-tar would skip silently, have no place in a
 * model's output and are an error.
 */
export async function tarGz(dir: string, entry: string, archive: string): Promise<void> {
  const unsupported: string[] = [];
  try {
    await fs.lstat(path.join(dir, entry));
    await create(
      {
        gzip: true,
        file: archive,
        cwd: dir,
        // no owner names, ids, inode numbers or atime/ctime (as the hand-written writer: uid/gid 0, no names)
        portable: true,
        // node-tar writes a pax mtime only for a Date it recognises with `instanceof`: one of this realm
        // (the stat's Date comes from Node's own, which differs inside Jest's sandbox)
        onWriteEntry: (e) => {
          if (e.stat) e.mtime = new Date(e.stat.mtime.getTime());
        },
        filter: (p, st) => {
          const ok = 'isFile' in st && (st.isFile() || st.isDirectory() || st.isSymbolicLink());
          if (!ok) unsupported.push(p);
          return ok;
        },
      },
      [entry],
    );
    if (unsupported.length) throw new Error(unsupported.map((p) => `${p} is not a regular file, directory or symlink`).join('; '));
  } catch (err) {
    await fs.rm(archive, { force: true }).catch(() => undefined);
    throw new Error(`writing ${archive} from ${path.join(dir, entry)} failed: ${(err as Error).message}`, { cause: err });
  }
}
