import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'apps', 'cli', 'dist', 'main.js');
export const MOCK_BASE = path.join(REPO, 'deploy', 'kosmatau-mock');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a subprocess (no shell), with only the given PDR_* variables. */
export function pdr(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDR_'))) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO, env: { ...base, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A user mistake: exit code ≠ 0, exactly one line on stderr in the pdr error format, no stack trace. */
export function expectOneLineError(r: Result, code: number, mention?: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect({ code: r.code, lines }).toEqual({ code, lines: [expect.stringMatching(/^pdr: error: /)] });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (mention) expect(lines[0]).toMatch(mention);
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(require('os').tmpdir(), prefix));
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    endField();
    rows.push(row);
  }
  return rows;
}
