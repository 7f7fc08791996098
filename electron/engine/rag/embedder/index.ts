/**
 * The one way the engine gets an embedder: name a local model, get an `Embedder` whose files are
 * in the cache. Another model plugs in as another entry of `embedderModels` and another branch.
 */
import type { Progress } from '../../../../shared/contract.js';
import type { Embedder } from '../types.js';
import { WorkerEmbedder } from './worker-embedder.js';
import { ensureMiniLm, miniLm } from './minilm-files.js';
import type { EmbedderModel } from './models.js';

export { embedderModels, type EmbedderModel } from './models.js';

export interface EmbedderConfig {
  model: EmbedderModel;
  /** Inference threads; default 1. */
  threads?: number | undefined;
  /** Texts per inference call; default 4. */
  batchSize?: number | undefined;
}

export interface EmbedderEnvironment {
  /** Models cache (the LLM's); each embedder keeps its files in a folder of its own there. */
  cacheDir: string;
  pypiIndexUrl: string;
  onProgress?: ((progress: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Downloads the model's files when the cache lacks them; the model itself loads on first use. */
export async function createEmbedder(config: EmbedderConfig, environment: EmbedderEnvironment): Promise<Embedder> {
  switch (config.model) {
    case miniLm.id: {
      const modelDir = await ensureMiniLm(environment);
      return new WorkerEmbedder({
        modelDir,
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
      });
    }
  }
}
