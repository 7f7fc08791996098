/** Retrieval's settings: indexing, search, the gate, the embedder (rag/README.md). Composed with the others by config/config.ts. */
import { z } from 'zod';
import { embedderModels } from './embedder/models.js';

const positiveInt = z.number().int().positive();

export const ragConfigSchema = z.strictObject({
  /** Files larger than this are not indexed. */
  maxFileBytes: positiveInt,
  /** Chunks embedded and committed together while indexing. */
  batchChunks: positiveInt.max(4096),
  /** Chunks given to the model at most, and candidates taken from each search before fusion. */
  topK: positiveInt.max(50),
  candidates: positiveInt.max(500),
  /**
   * Prompt tokens retrieved code may take at most (also bounded by the context window). Every one is
   * evaluated before the first answer token: coder-1.5b evaluates ~30–60 prompt tokens/s on one core,
   * so 1,500 tokens meant 45 s to the first token (BENCHMARKS.md, bench:serve); 512 keeps the best
   * two or three functions and a first token in ~10–15 s.
   */
  contextTokens: positiveInt,
  gate: z.strictObject({ maxDistance: z.number().min(0).max(2), strictDistance: z.number().min(0).max(2) }),
  /** Folders the API may index or read (the CLI may use any); null = the user's home folder. */
  allowedRoots: z.array(z.string().min(1)).nullable(),
  /** Batches above 4 run slower on CPU (attention outgrows the cache) and block longer: see rag/README.md. */
  embedder: z.strictObject({
    /** The local embedding model; a project indexed with another one must be indexed again. */
    model: z.enum(embedderModels),
    threads: positiveInt.max(64),
    batchSize: positiveInt.max(256),
  }),
});

export type RagConfig = z.infer<typeof ragConfigSchema>;

export function ragDefaults(): RagConfig {
  return {
    maxFileBytes: 1024 * 1024,
    batchChunks: 64,
    topK: 6,
    candidates: 30,
    contextTokens: 512,
    gate: { maxDistance: 0.62, strictDistance: 0.42 },
    allowedRoots: null,
    embedder: { model: 'all-MiniLM-L6-v2-int8', threads: 1, batchSize: 4 },
  };
}
