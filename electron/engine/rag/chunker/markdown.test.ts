import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from './index.js';

const readme = `Badges and a one-line pitch.

# npllm

A local code assistant.

## Install

\`\`\`sh
# this line is code, not a heading
npm install
\`\`\`

### On Debian ###

Needs \`build-essential\`.

Usage
-----

Run \`npllm --query "…"\`.


## Licence
MIT
`;

describe('Markdown chunks', () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await createChunker();
  });
  afterAll(() => chunker.dispose());

  it('makes one section per heading of any level, each without its subsections', () => {
    const chunks = chunker.chunk({ relativePath: 'README.md', content: readme });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['section', null, 1, 1, 'markdown'],
      ['section', 'npllm', 3, 5, 'markdown'],
      ['section', 'Install', 7, 12, 'markdown'],
      ['section', 'On Debian', 14, 16, 'markdown'],
      ['section', 'Usage', 18, 21, 'markdown'],
      ['section', 'Licence', 24, 25, 'markdown'],
    ]);
    expect(chunks[2]?.content).toBe('## Install\n\n```sh\n# this line is code, not a heading\nnpm install\n```');
    expect(chunks[5]?.content).toBe('## Licence\nMIT');
  });
});
