import { createReadStream, createWriteStream, lstatSync, promises as fs, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * `tar -czf <archive> <entry>` (cwd `dir`) written in-process: a POSIX (pax) tar of `entry` — regular
 * files, directories and symlinks, in sorted order — through zlib's gzip. pdr_run built MCDRT<job>.tar.gz
 * with Python's tarfile (pax by default; SPEC §5.10); GNU tar and Python read this one alike.
 *
 * Spawning tar (which spawns gzip) cost every job two processes forked from the runner, ~10 ms of CPU on
 * an idle 2-core machine — as much as a tenth of what a quick model spends in its own executables.
 * Other entry types (fifos, sockets, devices) have no place in a model's output and are an error.
 */
export async function tarGz(dir: string, entry: string, archive: string): Promise<void> {
  try {
    await pipeline(Readable.from(tarStream(dir, entry)), createGzip(), createWriteStream(archive, { mode: 0o644 }));
  } catch (err) {
    await fs.rm(archive, { force: true }).catch(() => undefined);
    throw new Error(`writing ${archive} from ${path.join(dir, entry)} failed: ${(err as Error).message}`, { cause: err });
  }
}

const BLOCK = 512;
/** Files up to this size are read in one synchronous call (as the storage does, see @pdr/storage). */
const SMALL_FILE_BYTES = 1 << 20;
/** Largest size the 11 octal digits of a ustar header hold (8 GiB - 1); larger files carry a pax size. */
const USTAR_MAX_SIZE = 0o77777777777;

async function* tarStream(dir: string, entry: string): AsyncGenerator<Buffer> {
  for await (const e of walk(dir, entry)) {
    const st = e.stat;
    const mtime = Math.floor(st.mtimeMs / 1000);
    if (st.isDirectory()) {
      yield* header({ name: `${e.name}/`, mode: st.mode, size: 0, mtime, type: '5' });
    } else if (st.isSymbolicLink()) {
      yield* header({ name: e.name, mode: st.mode, size: 0, mtime, type: '2', linkname: readlinkSync(path.join(dir, e.name)) });
    } else if (st.isFile()) {
      yield* header({ name: e.name, mode: st.mode, size: st.size, mtime, type: '0' });
      let written = 0;
      // small files in one synchronous read (no thread-pool hand-offs), big ones streamed
      const chunks = st.size <= SMALL_FILE_BYTES ? [readFileSync(path.join(dir, e.name))] : (createReadStream(path.join(dir, e.name)) as AsyncIterable<Buffer>);
      for await (const chunk of chunks) {
        written += chunk.length;
        if (written > st.size) throw new Error(`${e.name} grew while it was archived`);
        yield chunk;
      }
      if (written !== st.size) throw new Error(`${e.name} shrank while it was archived (${written} of ${st.size} bytes)`);
      if (st.size % BLOCK) yield Buffer.alloc(BLOCK - (st.size % BLOCK));
    } else {
      throw new Error(`${e.name} is not a regular file, directory or symlink`);
    }
  }
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

async function* walk(dir: string, name: string): AsyncGenerator<{ name: string; stat: import('node:fs').Stats }> {
  const stat = lstatSync(path.join(dir, name));
  yield { name, stat };
  if (!stat.isDirectory()) return;
  const children = readdirSync(path.join(dir, name)).sort();
  for (const c of children) yield* walk(dir, `${name}/${c}`);
}

interface Header {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  type: '0' | '2' | '5';
  linkname?: string;
}

/** One entry's header block, preceded by a pax extended header when a field does not fit ustar. */
function* header(h: Header): Generator<Buffer> {
  const pax: Record<string, string> = {};
  const split = splitName(h.name);
  if (!split) pax.path = h.name;
  if (h.linkname !== undefined && !fits(h.linkname, 100)) pax.linkpath = h.linkname;
  if (h.size > USTAR_MAX_SIZE) pax.size = String(h.size);
  if (Object.keys(pax).length) {
    const body = Buffer.from(Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
    yield ustar({ mode: 0o644, size: body.length, mtime: h.mtime, type: 'x' }, { name: `PaxHeader/${asciiTail(h.name).slice(-90)}`, prefix: '' });
    yield body;
    if (body.length % BLOCK) yield Buffer.alloc(BLOCK - (body.length % BLOCK));
  }
  yield ustar(
    { ...h, size: h.size > USTAR_MAX_SIZE ? 0 : h.size, linkname: h.linkname !== undefined && fits(h.linkname, 100) ? h.linkname : '' },
    split ?? { name: asciiTail(h.name), prefix: '' },
  );
}

function fits(s: string, bytes: number): boolean {
  return Buffer.byteLength(s, 'utf8') <= bytes && /^[\x20-\x7e]*$/.test(s);
}

/** ustar keeps names up to 100 bytes, or a prefix of up to 155 bytes + '/' + a name of up to 100. */
function splitName(name: string): { name: string; prefix: string } | null {
  if (!/^[\x20-\x7e]*$/.test(name)) return null;
  if (name.length <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return { name: rest, prefix };
  }
  return null;
}

/** A placeholder name for a header whose real name is in its pax record: the last ≤ 100 ASCII bytes. */
function asciiTail(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(-100);
}

/** "<len> <key>=<value>\n", where <len> counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'utf8');
  let len = bodyLen + String(bodyLen).length;
  if (bodyLen + String(len).length !== len) len = bodyLen + String(len).length; // one more digit (e.g. 98 → 101)
  return `${len}${body}`;
}

function ustar(h: { mode: number; size: number; mtime: number; type: string; linkname?: string }, names: { name: string; prefix: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(names.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, 0); // uid
  octal(b, 116, 8, 0); // gid
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, Math.max(0, h.mtime));
  b.fill(0x20, 148, 156); // checksum field counts as spaces
  b.write(h.type, 156, 1, 'ascii');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'ascii');
  b.write(names.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
