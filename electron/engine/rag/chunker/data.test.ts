import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from './index.js';

const packageJson = `{
  "name": "shop",
  "scripts": {
    "build": "tsc",
    "test": "vitest run"
  },
  "caf\\u00e9": true,
  "dependencies": {
    "zod": "^4.0.0"
  }
}
`;

const workflow = `# CI for the shop.

name: ci
on:
  push:
    branches: [main]

# One job is enough.
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: npm test
"quoted key": 1
---
second: document
`;

describe('JSON and YAML chunks', () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await createChunker();
  });
  afterAll(() => chunker.dispose());

  it('cuts JSON at its top-level keys, named as the parsed key reads', () => {
    const chunks = chunker.chunk({ relativePath: 'package.json', content: packageJson });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['section', 'name', 2, 2, 'json'],
      ['section', 'scripts', 3, 6, 'json'],
      ['section', 'café', 7, 7, 'json'],
      ['section', 'dependencies', 8, 10, 'json'],
    ]);
    expect(chunks[1]?.content).toBe('  "scripts": {\n    "build": "tsc",\n    "test": "vitest run"\n  },');
  });

  it('windows a JSON file whose top level is an array: it has no keys', () => {
    const chunks = chunker.chunk({ relativePath: 'data/list.json', content: '[\n  1,\n  2\n]\n' });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine])).toEqual([['window', null, 1, 4]]);
  });

  it('cuts YAML at the top-level keys of every document, with the comment above a key', () => {
    const chunks = chunker.chunk({ relativePath: '.github/workflows/ci.yml', content: workflow });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['window', null, 1, 1, 'yaml'],
      ['section', 'name', 3, 3, 'yaml'],
      ['section', 'on', 4, 6, 'yaml'],
      ['section', 'jobs', 8, 13, 'yaml'],
      ['section', 'quoted key', 14, 14, 'yaml'],
      ['section', 'second', 16, 16, 'yaml'],
    ]);
    expect(chunks[3]?.content).toBe('# One job is enough.\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test');
  });
});
