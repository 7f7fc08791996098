/** MiniLM's settings, apart from the model code so the engine's thread never loads ONNX Runtime. */
import { ConfigError } from '../../../../shared/errors.js';

export interface MiniLmOptions {
  /** Folder holding the files `ensureMiniLm` fetches. */
  modelDir: string;
  /** ONNX Runtime intra-op threads. */
  threads: number;
  /** Texts per inference call. */
  batchSize: number;
}

/**
 * One thread leaves the other core of a 2-core machine to the LLM. Batches of 4 (measured, see
 * rag/README.md): short texts gain from batching up to there, code chunks lose a little beyond it
 * as attention outgrows the cache, and each call blocks the event loop for its whole length.
 */
export function miniLmDefaults(): Omit<MiniLmOptions, 'modelDir'> {
  return { threads: 1, batchSize: 4 };
}

export function checkMiniLmOptions(options: MiniLmOptions): MiniLmOptions {
  for (const key of ['threads', 'batchSize'] as const) {
    const value = options[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigError('CONFIG_INVALID', `The embedder's ${key} must be a whole number of at least 1, not ${value}.`, {
        fix: `Set rag.embedder.${key} to 1 or more.`,
      });
    }
  }
  return options;
}
