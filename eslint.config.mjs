import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Module boundaries (docs/architecture.md): apps may import libs, libs never import apps, and only the
 * state service (and the persistence lib itself) may import @pdr/persistence — state is the one owner of
 * the database. Written with ESLint's own no-restricted-imports: the two rules need no project tags or
 * plugin (Nx's enforce-module-boundaries would add @nx/eslint-plugin and tags on every package for the
 * same two constraints). test/ may use anything.
 */
const APPS = ['@pdr/state', '@pdr/planner', '@pdr/runner', '@pdr/cli', '@pdr/web'];
const noAppImports = { group: [...APPS, ...APPS.map((a) => `${a}/*`), '**/apps/**'], message: 'a lib never imports an app (apps → libs only)' };
const noPersistence = { group: ['@pdr/persistence', '@pdr/persistence/*', '**/libs/persistence/**'], message: 'only the state service talks to the database (@pdr/persistence)' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'deploy/kosmatau-mock/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', setImmediate: 'readonly', __filename: 'readonly', exports: 'writable' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  { files: ['libs/**/*.ts'], ignores: ['libs/persistence/**'], rules: { 'no-restricted-imports': ['error', { patterns: [noAppImports, noPersistence] }] } },
  { files: ['libs/persistence/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [noAppImports] }] } },
  { files: ['apps/**/*.ts'], ignores: ['apps/state/**'], rules: { 'no-restricted-imports': ['error', { patterns: [noPersistence] }] } },
);
