import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CliContext } from '../context';
import { UsageError } from '../errors';
import { Io } from '../output/io';
import { jobDirOf, runInputs } from './inputs';

const MOCK = path.resolve(__dirname, '../../../../deploy/kosmatau-mock');
// These tests are about paths; the default chemistry file and species are not in the mock base dir: --remote-runners
// makes those preflight problems warnings (the base dir and templates, read here, are still checked).

function ctxIn(cwd: string): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), write: (t) => void out.push(t), isTTY: false, columns: 80 };
  return { ctx: { io, env: { PDR_BASE_DIR: MOCK }, cwd, verbose: false, repoRoot: path.resolve(__dirname, '../../../..') }, out, err };
}

describe('pdr inputs: paths', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-inputs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('jobDirOf accepts a plain job name and refuses anything that leaves DIR', () => {
    expect(jobDirOf('/o', '100_30_-10_10_00')).toBe('/o/100_30_-10_10_00');
    for (const bad of ['..', '.', '../x', 'a/b', '/etc', '']) expect(() => jobDirOf('/o', bad)).toThrow(UsageError);
  });

  it('writes every point of the grid, relative --out against the cwd', async () => {
    const { ctx, out } = ctxIn(dir);
    expect(await runInputs(ctx, { remoteRunners: true, dens: ['30', '40'], chi: ['10'], out: 'o' })).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'o')).sort()).toEqual(['100_30_-10_10_00', '100_40_-10_10_00']);
    expect(out.join('\n')).toContain(`2 point(s) written to ${path.join(dir, 'o')}`);
  });

  it('refuses a job directory that is a symbolic link (to outside DIR) and writes nothing through it', async () => {
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.mkdirSync(path.join(dir, 'o'));
    fs.symlinkSync(outside, path.join(dir, 'o', '100_30_-10_10_00'));
    const { ctx } = ctxIn(dir);
    await expect(runInputs(ctx, { remoteRunners: true, single: true, out: 'o' })).rejects.toThrow(/100_30_-10_10_00 exists and is not a directory/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('refuses to write through a symbolic link in place of an input file', async () => {
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'keep me');
    fs.mkdirSync(path.join(dir, 'o', '100_30_-10_10_00'), { recursive: true });
    fs.symlinkSync(victim, path.join(dir, 'o', '100_30_-10_10_00', 'PDRNEW.INP'));
    const { ctx } = ctxIn(dir);
    await expect(runInputs(ctx, { remoteRunners: true, single: true, out: 'o' })).rejects.toThrow(/PDRNEW\.INP exists and is not a regular file/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it('an existing point directory is refreshed (files replaced)', async () => {
    const job = path.join(dir, 'o', '100_30_-10_10_00');
    fs.mkdirSync(job, { recursive: true });
    fs.writeFileSync(path.join(job, 'parameters.json'), 'old');
    const { ctx } = ctxIn(dir);
    await runInputs(ctx, { remoteRunners: true, single: true, out: 'o' });
    expect(JSON.parse(fs.readFileSync(path.join(job, 'parameters.json'), 'utf8')).xnsur).toBe(1000);
  });

  it('--single with --random, --stdout with --out → usage errors', async () => {
    const { ctx } = ctxIn(dir);
    await expect(runInputs(ctx, { remoteRunners: true, single: true, random: 3, out: 'o' })).rejects.toThrow(/--single and --random/);
    await expect(runInputs(ctx, { remoteRunners: true, stdout: true, out: 'o' })).rejects.toThrow(/--stdout and --out/);
    expect(fs.existsSync(path.join(dir, 'o'))).toBe(false);
  });
});
