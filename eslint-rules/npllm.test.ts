/**
 * The house rules fire where they should and stay quiet where they should not, on a small engine
 * of fixture files (eslint-rules/fixtures/engine, outside the project's own lint).
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import npllm from './npllm.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const engineRoot = 'eslint-rules/fixtures/engine';

async function lint(): Promise<Map<string, { rule: string | null; message: string; line: number }[]>> {
  const eslint = new ESLint({
    cwd: repo,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { npllm },
        rules: {
          'npllm/layering': ['error', { engineRoot, allow: { rag: [], context: ['rag'], model: [], pipeline: ['rag'], feedback: [] } }],
          'npllm/no-foreign-queries': ['error', { engineRoot }],
          'npllm/sql-only-in-queries': 'error',
          'npllm/no-cycles': 'error',
        },
      },
    ],
  });
  const results = await eslint.lintFiles([`${engineRoot}/**/*.ts`]);
  return new Map(
    results.map((result) => [
      result.filePath.slice(repo.length + engineRoot.length + 1),
      result.messages.map((message) => ({ rule: message.ruleId, message: message.message, line: message.line })),
    ]),
  );
}

describe('npllm lint rules', () => {
  it("flag a capability reading another folder's queries.ts, a folder off its allowlist, SQL outside queries.ts and an import cycle, and nothing else", async () => {
    const found = await lint();
    expect(found.get('rag/queries.ts')).toEqual([]);
    expect(found.get('rag/search.ts')).toEqual([]);
    expect(found.get('context/service.ts')).toEqual([
      expect.objectContaining({
        rule: 'npllm/no-foreign-queries',
        line: 2,
        message: expect.stringContaining('../rag/queries.js is the SQL of electron/engine/rag/'),
      }),
    ]);
    expect(found.get('model/local.ts')).toEqual([
      expect.objectContaining({ rule: 'npllm/layering', line: 2, message: expect.stringContaining('electron/engine/model/ may not import rag/') }),
    ]);
    expect(found.get('pipeline/ask.ts')).toEqual([expect.objectContaining({ rule: 'npllm/sql-only-in-queries', line: 2 })]);
    for (const file of ['feedback/tokens.ts', 'feedback/matcher.ts']) {
      expect(found.get(file)).toEqual([expect.objectContaining({ rule: 'npllm/no-cycles', line: 1, message: expect.stringContaining('Import cycle') })]);
    }
  });
});
