import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NpllmError } from '../../../../shared/errors.js';
import type { Chunk } from '../types.js';
import { chunkerDefaults, createChunker, detectLanguage, type Chunker } from './index.js';

/** What every chunk promises: its content is exactly its lines of the file (or a slice of its one line) and is hashed. */
function expectFaithful(content: string, chunks: Chunk[]): void {
  const lines = content.split('\n');
  for (const chunk of chunks) {
    const expected = lines
      .slice(chunk.startLine - 1, chunk.endLine)
      .join('\n')
      .replace(/\r$/, '');
    if (chunk.content !== expected) expect(chunk.startLine === chunk.endLine && expected.includes(chunk.content)).toBe(true);
    expect(chunk.contentHash).toBe(createHash('sha256').update(chunk.content).digest('hex'));
  }
}

const model = `class Partner:
    """A customer or supplier."""

    def display_name(self):
        return self.name

def lonely():
    pass
`;

describe('chunker', () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await createChunker();
  });
  afterAll(() => chunker.dispose());

  it('detects the language from the extension', () => {
    expect(
      ['a/b.py', 'x.JSX', 'lib.d.ts', 'App.tsx', 'views/a.xml', 'tsconfig.json', 'ci.yml', 'README.md', 'notes.txt', 'Makefile', '.env', 'dir.v2/file'].map(
        detectLanguage,
      ),
    ).toEqual(['python', 'javascript', 'typescript', 'tsx', 'xml', 'json', 'yaml', 'markdown', 'text', 'text', 'text', 'text']);
  });

  it('gives nothing for empty and blank files, and for files of imports alone', () => {
    expect(chunker.chunk({ relativePath: 'empty.py', content: '' })).toEqual([]);
    expect(chunker.chunk({ relativePath: 'blank.ts', content: ' \n\t\n' })).toEqual([]);
    expect(chunker.chunk({ relativePath: '__init__.py', content: 'from .models import sale_order\nfrom . import wizard\n' })).toEqual([]);
  });

  it('cuts plain text into overlapping windows of 60 lines', () => {
    const content = Array.from({ length: 130 }, (_, index) => `line ${index + 1} of the notes`).join('\n');
    const chunks = chunker.chunk({ relativePath: 'docs/notes.txt', content });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['window', null, 1, 60, 'text'],
      ['window', null, 51, 110, 'text'],
      ['window', null, 101, 130, 'text'],
    ]);
    expect(chunks[0]?.content.split('\n').at(-1)).toBe('line 60 of the notes');
    expectFaithful(content, chunks);
  });

  it('numbers CRLF files like LF files and keeps their text exact', () => {
    const crlf = model.replace(/\n/g, '\r\n');
    const lf = chunker.chunk({ relativePath: 'partner.py', content: model });
    const chunks = chunker.chunk({ relativePath: 'partner.py', content: crlf });
    expect(chunks.map((chunk) => [chunk.symbol, chunk.startLine, chunk.endLine])).toEqual(lf.map((chunk) => [chunk.symbol, chunk.startLine, chunk.endLine]));
    expect(chunks.map((chunk) => [chunk.symbol, chunk.startLine, chunk.endLine])).toEqual([
      ['Partner', 1, 2],
      ['Partner.display_name', 4, 5],
      ['lonely', 7, 8],
    ]);
    expect(chunks[1]?.content).toBe('    def display_name(self):\r\n        return self.name');
    expectFaithful(crlf, chunks);
  });

  it('keeps line numbers right after multi-byte characters', () => {
    const content = `# Zürich, 東京, emoji 😀🚀 and a combining é\nGREETING = "¡Hola! 👋 — こんにちは"\n\n\ndef greet(name):\n    return f"{GREETING} {name} 🎉"\n`;
    const chunks = chunker.chunk({ relativePath: 'greet.py', content });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine])).toEqual([
      ['window', null, 1, 2],
      ['function', 'greet', 5, 6],
    ]);
    expect(chunks[1]?.content).toBe('def greet(name):\n    return f"{GREETING} {name} 🎉"');
    const ts = `const label = '日本語 😀';\nexport function shout(text: string): string {\n  return text.toUpperCase() + '‼';\n}\n`;
    expect(chunker.chunk({ relativePath: 'shout.ts', content: ts }).find((chunk) => chunk.symbol === 'shout')).toMatchObject({ startLine: 2, endLine: 4 });
  });

  it('cuts a function longer than 300 lines into windows that keep its symbol', () => {
    const body = Array.from({ length: 400 }, (_, index) => `    total += ${index}`).join('\n');
    const content = `def huge():\n    total = 0\n${body}\n    return total\n`;
    const chunks = chunker.chunk({ relativePath: 'huge.py', content });
    expect(chunks.every((chunk) => chunk.symbol === 'huge' && chunk.kind === 'function')).toBe(true);
    expect(chunks.map((chunk) => [chunk.startLine, chunk.endLine])).toEqual([
      [1, 60],
      [51, 110],
      [101, 160],
      [151, 210],
      [201, 260],
      [251, 310],
      [301, 360],
      [351, 403],
    ]);
    expectFaithful(content, chunks);
  });

  it('cuts a function of fewer lines but more than 8 KB by characters', () => {
    const body = Array.from({ length: 100 }, (_, index) => `    payload_${index} = "${'x'.repeat(150)}"`).join('\n');
    const content = `def heavy():\n${body}\n`;
    const chunks = chunker.chunk({ relativePath: 'heavy.py', content });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => chunk.symbol === 'heavy' && chunk.content.length <= chunkerDefaults().maxChunkChars)).toBe(true);
    expect(chunks[0]?.startLine).toBe(1);
    expect(chunks.at(-1)?.endLine).toBe(101);
    expectFaithful(content, chunks);
  });

  it('windows a minified file by characters, never splitting a surrogate pair', () => {
    const content = Array.from({ length: 4000 }, (_, index) => `function f${index}(a){return a+${index}}`).join(';') + ';const s="' + '😀'.repeat(6000) + '";';
    const chunks = chunker.chunk({ relativePath: 'dist/app.min.js', content });
    expect(chunks.length).toBeGreaterThan(10);
    expect(
      chunks.every(
        (chunk) => chunk.kind === 'window' && chunk.startLine === 1 && chunk.endLine === 1 && chunk.content.length <= chunkerDefaults().maxChunkChars,
      ),
    ).toBe(true);
    expect(content.startsWith(chunks[0]?.content ?? '-')).toBe(true);
    expect(content.endsWith(chunks.at(-1)?.content ?? '-')).toBe(true);
    for (const chunk of chunks) expect(chunk.content).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    expectFaithful(content, chunks);
  });

  it('only windows files above maxParseChars', async () => {
    const small = await createChunker({ maxParseChars: 20 });
    try {
      expect(small.chunk({ relativePath: 'partner.py', content: model }).map((chunk) => [chunk.kind, chunk.startLine, chunk.endLine])).toEqual([
        ['window', 1, 8],
      ]);
    } finally {
      small.dispose();
    }
  });

  it('is deterministic, across calls and across chunkers', async () => {
    const files = [
      { relativePath: 'partner.py', content: model },
      { relativePath: 'web/app.tsx', content: 'export const App = () => <main>hi</main>;\n' },
      { relativePath: 'README.md', content: '# A\ntext\n## B\nmore\n' },
    ];
    const other = await createChunker();
    try {
      for (const file of files) {
        const first = chunker.chunk(file);
        expect(chunker.chunk(file)).toEqual(first);
        expect(other.chunk(file)).toEqual(first);
        expectFaithful(file.content, first);
      }
    } finally {
      other.dispose();
    }
  });

  it('rejects impossible options with a fix', async () => {
    await expect(createChunker({ windowLines: 10, windowOverlap: 10 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      fix: expect.stringContaining('windowOverlap'),
    });
    await expect(createChunker({ maxChunkLines: 0 })).rejects.toBeInstanceOf(NpllmError);
  });

  it('refuses to work after dispose', async () => {
    const disposable = await createChunker();
    disposable.dispose();
    disposable.dispose();
    expect(() => disposable.chunk({ relativePath: 'a.py', content: 'x = 1\n' })).toThrow(/after dispose/);
  });
});
