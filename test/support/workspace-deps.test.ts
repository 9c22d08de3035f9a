/**
 * Every workspace package (libs/*, apps/*) declares what its source imports: the @pdr/* libs and the
 * npm packages, in its own package.json `dependencies` (node's built-ins excepted). The root
 * package.json still installs them; this keeps each package's needs visible where it lives, and the
 * module-boundary lint (test/support/boundaries.test.ts) decides which of them are allowed at all.
 */
import { builtinModules } from 'module';
import { readdirSync, readFileSync, statSync } from 'fs';
import { join, resolve } from 'path';

const REPO = resolve(__dirname, '../..');
const BUILTIN = new Set(builtinModules);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The package names a TypeScript source imports or requires (bare specifiers only). */
export function importedPackages(code: string): string[] {
  const out = new Set<string>();
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  for (const m of code.matchAll(re)) {
    const spec = m[1];
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    if (!BUILTIN.has(name)) out.add(name);
  }
  return [...out];
}

const packages = ['libs', 'apps'].flatMap((top) => readdirSync(join(REPO, top)).map((d) => join(top, d))).filter((d) => statSync(join(REPO, d, 'src')).isDirectory());

it('finds the imports of a source', () => {
  const code = "import { a } from '@pdr/contracts/x';\nimport type B from 'ssh2-sftp-client';\nimport 'reflect-metadata';\nconst c = require('cockatiel');\nimport { x } from './local';\nimport * as fs from 'node:fs';\nimport { parseArgs } from 'util';";
  expect(importedPackages(code).sort()).toEqual(['@pdr/contracts', 'cockatiel', 'reflect-metadata', 'ssh2-sftp-client']);
});

it.each(packages)('%s declares every package its source imports', (dir) => {
  const pkg = JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
  const declared = new Set(Object.keys(pkg.dependencies ?? {}));
  const missing = new Map<string, string>();
  for (const file of sources(join(REPO, dir, 'src'))) {
    for (const name of importedPackages(readFileSync(file, 'utf8'))) {
      if (name !== pkg.name && !declared.has(name) && !missing.has(name)) missing.set(name, file.slice(REPO.length + 1));
    }
  }
  expect([...missing].map(([name, file]) => `${name} (imported by ${file}) is not in ${dir}/package.json dependencies`)).toEqual([]);
});
