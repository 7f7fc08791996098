// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import npllm from './eslint-rules/npllm.js';

/**
 * Besides the usual rules, this file enforces the layering (as VS Code does): shared/ is pure,
 * the engine never sees electron, the renderer reaches the engine only through shared/, main and
 * preload only wire; inside the engine each folder imports only what its allowlist says, no
 * folder reads another's queries.ts, SQL lives in queries.ts, and nothing imports itself back
 * (eslint-rules/npllm.js, tested in eslint-rules/npllm.test.ts).
 */

/**
 * Which engine folders each engine folder may import (shared/ and npm packages always). `(root)`
 * is the composition root: engine.ts and utility.ts, which build everything from the parts.
 * base/ (files, log, paths, locks, wheel downloads), secrets/ and project/ sit at the bottom.
 */
const engineLayers = {
  '(root)': ['adapters', 'api', 'base', 'config', 'context', 'db', 'feedback', 'learning', 'metrics', 'model', 'modulator', 'pipeline', 'project', 'rag'],
  base: [],
  secrets: [],
  project: ['base'],
  db: ['base'],
  model: ['base'],
  context: ['base', 'db', 'project'],
  rag: ['base', 'db', 'project', 'secrets'],
  'data-collection': ['base', 'db', 'project', 'secrets'],
  feedback: ['base', 'data-collection', 'db'],
  adapters: ['base', 'db', 'model', 'project'],
  learning: ['adapters', 'base', 'config', 'context', 'data-collection', 'db', 'model', 'project'],
  metrics: ['base', 'db', 'learning'],
  // The modulator plans every question from what serving, retrieval and feedback already know.
  modulator: ['adapters', 'base', 'db', 'feedback', 'model', 'project', 'rag'],
  pipeline: ['adapters', 'base', 'data-collection', 'db', 'feedback', 'model', 'modulator', 'project', 'rag'],
  // The transports and the configuration sit on top.
  api: ['adapters', 'base', 'context', 'data-collection', 'db', 'feedback', 'learning', 'metrics', 'model', 'modulator', 'pipeline', 'project', 'rag'],
  server: ['(root)', 'api', 'base'],
  cli: ['(root)', 'api', 'base', 'config', 'metrics', 'model', 'rag', 'server'],
  config: ['adapters', 'base', 'db', 'feedback', 'learning', 'model', 'modulator', 'pipeline', 'rag', 'server'],
};

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'crypto',
  'child_process',
  'http',
  'https',
  'net',
  'url',
  'stream',
  'stream/*',
  'util',
  'events',
  'worker_threads',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '.cache/', 'coverage/', 'test-results/', 'playwright-report/', 'drizzle/', 'eslint-rules/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs', 'eslint-rules/*.js'],
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'shared/ must run in every process: no electron.' },
            { group: nodeBuiltins, message: 'shared/ must run in the renderer: no Node built-ins.' },
            { group: ['../electron/*', '../renderer/*', '**/electron/**', '**/renderer/**'], message: 'shared/ depends on nothing above it.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['electron/engine/**'],
    plugins: { npllm },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'The engine runs without Electron (CLI, server): never import electron.' },
            { group: ['**/renderer/**', '**/electron/main/**', '**/electron/preload/**'], message: 'The engine does not depend on the shells around it.' },
          ],
        },
      ],
      'npllm/layering': ['error', { engineRoot: 'electron/engine', allow: engineLayers }],
      'npllm/no-foreign-queries': ['error', { engineRoot: 'electron/engine' }],
      'npllm/sql-only-in-queries': ['error', { allowedFiles: ['electron/engine/db/client.ts', 'electron/engine/db/schema.ts', 'electron/engine/db/sql.ts'] }],
    },
  },
  {
    files: ['electron/**/*.ts', 'shared/**/*.ts', 'renderer/**/*.{ts,tsx}', 'bench/**/*.ts'],
    plugins: { npllm },
    rules: { 'npllm/no-cycles': 'error', 'max-lines': ['error', { max: 500 }] },
  },
  {
    // main and preload only wire: what they know of the engine is its message types.
    files: ['electron/main/**', 'electron/preload/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/**'],
              allowTypeImports: true,
              message: 'main and preload only wire: import the engine\'s message types with "import type", never its code (it runs in the utility process).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'The renderer talks to the engine only through the contract (preload bridge or HTTP).' },
            { group: nodeBuiltins, message: 'The renderer runs in a sandboxed browser context.' },
            { group: ['**/electron/**'], message: 'The renderer imports only shared/.' },
          ],
        },
      ],
    },
  },
);
