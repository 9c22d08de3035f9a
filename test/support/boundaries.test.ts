/**
 * The module boundaries are enforced by the lint (eslint.config.mjs): a deliberate violation of each
 * rule is reported, and the allowed imports are not. ESLint runs in a child process (its flat config is
 * an ES module, which jest's VM does not load), linting each probe as if it were a file at that path.
 */
import { execFileSync } from 'child_process';
import { resolve } from 'path';

const REPO = resolve(__dirname, '../..');

const REFUSED: [string, string, RegExp][] = [
  ['libs/domain/src/probe.ts', "import { startStateService } from '@pdr/state';", /a lib never imports an app/],
  ['libs/messaging/src/probe.ts', "import { startRunner } from '../../../apps/runner/src/start-runner';", /a lib never imports an app/],
  ['libs/config/src/probe.ts', "import { createOrm } from '@pdr/persistence';", /only the state service talks to the database/],
  ['apps/cli/src/probe.ts', "import { createOrm } from '@pdr/persistence';", /only the state service talks to the database/],
  ['apps/runner/src/probe.ts', "import { createOrm } from '../../../libs/persistence/src/orm';", /only the state service talks to the database/],
];
const ALLOWED: [string, string][] = [
  ['apps/state/src/probe.ts', "import { createOrm } from '@pdr/persistence';"],
  ['apps/cli/src/probe.ts', "import { LIMITS } from '@pdr/contracts';"],
  ['libs/persistence/src/probe.ts', "import { LIMITS } from '@pdr/contracts';"],
];

const probe = (code: string) => `${code}\nexport const used = [${/\{ (\w+) \}/.exec(code)![1]}];\n`;

let results: string[][];
beforeAll(() => {
  const cases = [...REFUSED, ...ALLOWED].map(([file, code]) => ({ filePath: resolve(REPO, file), code: probe(code) }));
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: ${JSON.stringify(REPO)} });
      const out = [];
      for (const c of cases) {
        const [r] = await eslint.lintText(c.code, { filePath: c.filePath });
        out.push(r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  results = JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(cases)], { cwd: REPO, encoding: 'utf8' }));
}, 120_000);

it.each(REFUSED.map((c, i) => [...c, i] as const))('%s: %s is refused', (_file, _code, message, i) => {
  expect(results[i]).toEqual([expect.stringMatching(message)]);
});

it.each(ALLOWED.map((c, i) => [...c, REFUSED.length + i] as const))('%s: %s is allowed', (_file, _code, i) => {
  expect(results[i]).toEqual([]);
});
