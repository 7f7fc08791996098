/** The critical path's settings: the response cache and the questions it accepts. Composed with the others by config/config.ts. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const cacheConfigSchema = z.strictObject({ enabled: z.boolean() });

export type CacheConfig = z.infer<typeof cacheConfigSchema>;

export function cacheDefaults(): CacheConfig {
  return { enabled: true };
}

export const queryConfigSchema = z.strictObject({
  /** Longest question accepted, in characters. */
  maxChars: positiveInt.max(1_000_000),
});

export type QueryConfig = z.infer<typeof queryConfigSchema>;

export function queryDefaults(): QueryConfig {
  return { maxChars: 32_000 };
}
