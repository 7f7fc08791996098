// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Besides the usual rules, this file enforces the layering (as VS Code does): shared/ is pure,
 * the engine never sees electron, the renderer reaches the engine only through shared/.
 */
const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'url', 'stream', 'stream/*', 'util', 'events', 'worker_threads'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '.cache/', 'coverage/', 'test-results/', 'playwright-report/', 'drizzle/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // expect.any() and friends are typed `any` by design.
    files: ['**/*.test.ts', '**/*.test.tsx', 'e2e/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  {
    files: ['shared/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['electron', 'electron/*'], message: 'shared/ must run in every process: no electron.' },
        { group: nodeBuiltins, message: 'shared/ must run in the renderer: no Node built-ins.' },
        { group: ['../electron/*', '../renderer/*', '**/electron/**', '**/renderer/**'], message: 'shared/ depends on nothing above it.' },
      ] }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['electron/engine/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['electron', 'electron/*'], message: 'The engine runs without Electron (CLI, server): never import electron.' },
        { group: ['**/renderer/**', '**/electron/main/**', '**/electron/preload/**'], message: 'The engine does not depend on the shells around it.' },
      ] }],
    },
  },
  {
    files: ['renderer/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['electron', 'electron/*'], message: 'The renderer talks to the engine only through the contract (preload bridge or HTTP).' },
        { group: nodeBuiltins, message: 'The renderer runs in a sandboxed browser context.' },
        { group: ['**/electron/**'], message: 'The renderer imports only shared/.' },
      ] }],
    },
  },
);
