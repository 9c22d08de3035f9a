import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SYNC_TAR_BYTES, tarGz } from './tar';

describe('tarGz (in-process tar.gz of a job directory entry)', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pdr-tar-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
  const files: Record<string, Buffer> = {
    'Out/mcdrt.out': Buffer.from('MCDRT radiative transfer\n'),
    'Out/empty.dat': Buffer.alloc(0),
    'Out/block.dat': Buffer.alloc(512, 7),
    'Out/block1.dat': Buffer.alloc(513, 8),
    'Out/big.dat': Buffer.alloc(3 * 65536 + 17, 9),
    [`Out/${longDir}/name-that-fits-the-prefix-split.txt`]: Buffer.from('prefix\n'),
    [`Out/${'n'.repeat(120)}.txt`]: Buffer.from('pax path\n'),
    'Out/sub/ρ-Ophiuchi_α.txt': Buffer.from('unicode\n'),
  };

  /** With `big`, Out/ holds more than SYNC_TAR_BYTES: archived asynchronously instead of synchronously. */
  const bigFile = { 'Out/huge.dat': Buffer.alloc(SYNC_TAR_BYTES, 5) };
  async function build(big = false): Promise<void> {
    for (const [rel, data] of Object.entries({ ...files, ...(big ? bigFile : {}) })) {
      await fs.mkdir(path.dirname(path.join(tmp, rel)), { recursive: true });
      await fs.writeFile(path.join(tmp, rel), data);
    }
    await fs.mkdir(path.join(tmp, 'Out/emptydir'));
    await fs.symlink('mcdrt.out', path.join(tmp, 'Out/link.out'));
  }

  it.each([
    ['a small Out/ (synchronously)', false],
    ['a big Out/ (asynchronously)', true],
  ])('GNU tar lists and extracts every file, directory and symlink with its content: %s', async (_what, big) => {
    await build(big);
    const archive = path.join(tmp, 'MCDRTx.tar.gz');
    await tarGz(tmp, 'Out', archive);
    const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n').sort();
    const all = { ...files, ...(big ? bigFile : {}) };
    expect(listed).toEqual(expect.arrayContaining(['Out/', 'Out/emptydir/', 'Out/link.out', 'Out/sub/', ...Object.keys(all)]));
    const out = path.join(tmp, 'x');
    await fs.mkdir(out);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    for (const [rel, data] of Object.entries(all)) expect((await fs.readFile(path.join(out, rel))).equals(data)).toBe(true);
    expect(await fs.readlink(path.join(out, 'Out/link.out'))).toBe('mcdrt.out');
    expect((await fs.stat(path.join(out, 'Out/emptydir'))).isDirectory()).toBe(true);
  });

  it('Python tarfile (what pdr_run users have) reads the same names', async () => {
    await build();
    const archive = path.join(tmp, 'a.tar.gz');
    await tarGz(tmp, 'Out', archive);
    const names = execFileSync('python3', ['-c', 'import sys, tarfile; print("\\n".join(sorted(tarfile.open(sys.argv[1]).getnames())))', archive], { encoding: 'utf8' });
    expect(names.trim().split('\n')).toEqual(expect.arrayContaining(Object.keys(files)));
  });

  it.each([
    ['small', false],
    ['big', true],
  ])('an entry that is no file, directory or symlink fails naming it, and leaves no archive (%s Out/)', async (_what, big) => {
    await fs.mkdir(path.join(tmp, 'Out'));
    if (big) await fs.writeFile(path.join(tmp, 'Out/huge.dat'), bigFile['Out/huge.dat']);
    execFileSync('mkfifo', [path.join(tmp, 'Out/pipe')]);
    const archive = path.join(tmp, 'bad.tar.gz');
    await expect(tarGz(tmp, 'Out', archive)).rejects.toThrow(/Out\/pipe is not a regular file, directory or symlink/);
    await expect(fs.access(archive)).rejects.toThrow(/ENOENT/);
  });

  it('a missing entry fails naming it', async () => {
    await expect(tarGz(tmp, 'Out', path.join(tmp, 'none.tar.gz'))).rejects.toThrow(/Out/);
  });
});
