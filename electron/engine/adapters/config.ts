/** Adapter serving's settings (adapters/README.md). Composed with the others by config/config.ts. */
import { z } from 'zod';

export const adaptersConfigSchema = z.strictObject({
  /** LoRA scale of every applied adapter (llama.cpp multiplies it with alpha / rank); 0 = as if absent. */
  defaultScale: z.number().min(0).max(4),
  /** Adapters applied to one answer at most (stack adapters first, then `user`); 0 serves the base model only. */
  maxActive: z.number().int().min(0).max(16),
});

export type AdaptersConfig = z.infer<typeof adaptersConfigSchema>;

export function adaptersDefaults(): AdaptersConfig {
  return { defaultScale: 1, maxActive: 4 };
}
