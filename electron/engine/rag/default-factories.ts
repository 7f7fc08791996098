/**
 * The concrete walker, parsers and embedder the engine indexes with. Parsers and the embedder
 * (onnxruntime's native library) are imported on first use: a question without a project, the
 * common case, never loads them.
 */
import type { RagConfig } from './config.js';
import type { RagFactories } from './service.js';
import { readProjectFile } from './read-file.js';
import { walkProject } from './walker.js';

/** `models`: where the embedding model is fetched into, and from. */
export function defaultRagFactories(config: RagConfig, models: { cacheDir: string; pypiIndexUrl: string }): RagFactories {
  return {
    walk: (root, options) => walkProject(root, options),
    read: (entry, options) => readProjectFile(entry, options),
    createChunker: async () => (await import('./chunker/index.js')).createChunker(),
    createEmbedder: async (onProgress) =>
      (await import('./embedder/index.js')).createEmbedder(
        { model: config.embedder.model, threads: config.embedder.threads, batchSize: config.embedder.batchSize },
        { ...models, onProgress },
      ),
  };
}
