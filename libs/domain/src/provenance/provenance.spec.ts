import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { probeExecutable, sha256File } from './probe';
import { parseVersionOutput } from './version';

describe('parseVersionOutput', () => {
  it('mockpdr output (revision after the colon that follows "Revision", compiled-the date)', () => {
    const v = parseVersionOutput('mock_long_run.sh Revision: 1.2.3\nBinary compiled the Feb 11 2025 at 11:01:00\n');
    expect(v.revision).toBe('1.2.3');
    expect(v.compilationDate).toEqual(new Date(Date.UTC(2025, 1, 11, 11, 1, 0)));
    expect(v.reasons).toEqual([]);
  });

  it.each([
    ['Revision: 1.2.3', '1.2.3'],
    ['revision 1.2.3', '1.2.3'],
    ['KOSMA-tau Revision 4.5b (dev build)', '4.5b'], // capitalised, no colon (pdr_run: IndexError)
    ['Build: 12:30 Revision: r789', 'r789'], // not the first colon of the line
    ['REVISION:   abc-def  ', 'abc-def'],
    ['revision 2.0, compiled', '2.0'],
    ['Revision:\nrevision 7', '7'], // empty after colon → keep looking
  ])('revision of %j → %s', (text, rev) => expect(parseVersionOutput(text).revision).toBe(rev));

  it.each([
    ['Compiled: Jan 01 2023 at 12:00:00', Date.UTC(2023, 0, 1, 12, 0, 0)],
    ['Binary compiled the Feb  1 2025 at 09:05:07', Date.UTC(2025, 1, 1, 9, 5, 7)],
    ['built 2024-03-15 08:30:00 on host', Date.UTC(2024, 2, 15, 8, 30, 0)],
    ['date: 15 Mar 2024 08:30:00', Date.UTC(2024, 2, 15, 8, 30, 0)],
    ['released March 5, 2024', Date.UTC(2024, 2, 5)],
    ['kompiliert 05.03.2024 17:45:10', Date.UTC(2024, 2, 5, 17, 45, 10)],
  ])('date in %j', (text, ms) => expect(parseVersionOutput(text).compilationDate?.getTime()).toBe(ms));

  it('prefers the date on a "compiled" line', () => {
    const v = parseVersionOutput('copyright 2020-01-01 00:00:00\ncompiled on 2024-06-30 10:00:00');
    expect(v.compilationDate?.toISOString()).toBe('2024-06-30T10:00:00.000Z');
  });

  it('nothing found → nulls with reasons, never sentinels', () => {
    const v = parseVersionOutput('hello\nworld\n');
    expect(v.revision).toBeNull();
    expect(v.compilationDate).toBeNull();
    expect(v.reasons).toHaveLength(2);
    expect(parseVersionOutput('built 2024-02-30 10:00:00').compilationDate).toBeNull(); // invalid day
  });
});

describe('sha256File / probeExecutable', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-domain-probe-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function script(name: string, body: string, mode = 0o755): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`);
    fs.chmodSync(p, mode);
    return p;
  }

  it('sha256File streams and matches crypto; missing file names the path', async () => {
    const p = path.join(dir, 'data.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
    fs.writeFileSync(p, data);
    expect(await sha256File(p)).toBe(createHash('sha256').update(data).digest('hex'));
    await expect(sha256File(path.join(dir, 'nope'))).rejects.toThrow(/nope/);
  });

  it('mock executable: sha, revision and date from one --version run', async () => {
    const counter = path.join(dir, 'count');
    const exe = script('mockpdr', `echo x >> "${counter}"\n[ "$1" = "--version" ] || exit 3\necho "mockpdr Revision: 1.2.3"\necho "Binary compiled the Feb 11 2025 at 11:01:00"`);
    const p = await probeExecutable(exe, { timeoutMs: 20_000 });
    expect(p).toMatchObject({ path: exe, fileName: 'mockpdr', revision: '1.2.3', reasons: [] });
    expect(p.sha256).toBe(createHash('sha256').update(fs.readFileSync(exe)).digest('hex'));
    expect(p.compilationDate?.toISOString()).toBe('2025-02-11T11:01:00.000Z');
    expect(fs.readFileSync(counter, 'utf8')).toBe('x\n'); // run exactly once
  });

  it('missing / not executable / non-zero exit / timeout → nulls with a reason', async () => {
    const missing = await probeExecutable(path.join(dir, 'absent'));
    expect(missing).toMatchObject({ sha256: null, revision: null, compilationDate: null });
    expect(missing.reasons[0]).toMatch(/not found.*absent/);

    const noexec = await probeExecutable(script('noexec', 'echo Revision: 1', 0o644));
    expect(noexec.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(noexec.revision).toBeNull();
    expect(noexec.reasons.join()).toMatch(/not executable/);

    const failing = await probeExecutable(script('failing', 'echo Revision: 9\nexit 2'));
    expect(failing.revision).toBeNull();
    expect(failing.reasons.join()).toMatch(/exited with code 2/);

    const slow = await probeExecutable(script('slow', 'exec sleep 30'), { timeoutMs: 300 });
    expect(slow.revision).toBeNull();
    expect(slow.reasons.join()).toMatch(/timed out after 300 ms/);

    const dirProbe = await probeExecutable(dir);
    expect(dirProbe.reasons.join()).toMatch(/not a regular file/);
  });
});
