import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import { NpllmError } from '../../../../shared/errors.js';
import type { ParsedLanguage } from './languages.js';

/**
 * Grammars compiled to WebAssembly, from npm: the tree-sitter projects' own release builds.
 * VS Code's package ships the code grammars; Kerebron's mirrors the XML, JSON, YAML and Markdown
 * releases (the only prebuilt XML on npm besides an older build that fails on Odoo domains such as
 * `[('a', '=', 1)]`). All use language ABI 14 or 15, which web-tree-sitter 0.25 and later load.
 */
const grammarFiles: Record<ParsedLanguage, readonly [packageName: string, file: string]> = {
  python: ['@vscode/tree-sitter-wasm', 'wasm/tree-sitter-python.wasm'],
  javascript: ['@vscode/tree-sitter-wasm', 'wasm/tree-sitter-javascript.wasm'],
  typescript: ['@vscode/tree-sitter-wasm', 'wasm/tree-sitter-typescript.wasm'],
  tsx: ['@vscode/tree-sitter-wasm', 'wasm/tree-sitter-tsx.wasm'],
  xml: ['@kerebron/wasm', 'assets/tree-sitter-xml/tree-sitter-xml.wasm'],
  json: ['@kerebron/wasm', 'assets/tree-sitter-json/tree-sitter-json.wasm'],
  yaml: ['@kerebron/wasm', 'assets/tree-sitter-yaml/tree-sitter-yaml.wasm'],
  markdown: ['@kerebron/wasm', 'assets/tree-sitter-markdown/tree-sitter-markdown.wasm'],
};

const installFix = 'Run `npm install` in the npllm folder: the parsers come from the packages web-tree-sitter, @vscode/tree-sitter-wasm and @kerebron/wasm.';

/** The runtime is one WebAssembly instance per process; every parser shares it. */
let runtime: Promise<void> | undefined;

/** One parser per language, created once: a parser is reusable, its creation and the grammar's compilation are not free. */
export async function loadParsers(): Promise<Map<ParsedLanguage, Parser>> {
  runtime ??= Parser.init().catch((cause: unknown) => {
    runtime = undefined;
    throw new NpllmError('INTERNAL', 'Cannot start the tree-sitter runtime (web-tree-sitter).', { fix: installFix, cause });
  });
  await runtime;
  const loaded = await Promise.allSettled(
    Object.entries(grammarFiles).map(async ([language, [packageName, file]]) => {
      try {
        const grammar = await Language.load(await readFile(packageFile(packageName, file)));
        const parser = new Parser();
        parser.setLanguage(grammar);
        return [language as ParsedLanguage, parser] as const;
      } catch (cause) {
        throw new NpllmError('INTERNAL', `Cannot load the ${language} grammar (${packageName}/${file}).`, { fix: installFix, cause });
      }
    }),
  );
  const entries = loaded.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = loaded.find((result) => result.status === 'rejected');
  if (failure) {
    for (const [, parser] of entries) parser.delete();
    throw failure.reason;
  }
  return new Map(entries);
}

/**
 * Looks the file up along the `node_modules` folders Node would search from this module, so it
 * works from the sources and from dist/. Not `require.resolve(file)`: a package's `exports` may
 * hide its assets from it, as @kerebron/wasm's does.
 */
function packageFile(packageName: string, file: string): string {
  const require = createRequire(import.meta.url);
  for (const folder of require.resolve.paths(packageName) ?? []) {
    const candidate = join(folder, packageName, file);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${packageName}/${file} is not installed.`);
}
