/** The HTTP server's settings. Composed with the others by config/config.ts. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const serverConfigSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  /** When set, every request but /health must send `Authorization: Bearer <apiKey>`. */
  apiKey: z.string().min(16).nullable(),
  maxBodyBytes: positiveInt,
  /** Built renderer to serve to browsers; null = the one built with this package. */
  staticDir: z.string().nullable(),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

export function serverDefaults(): ServerConfig {
  return { host: '127.0.0.1', port: 7411, apiKey: null, maxBodyBytes: 2 * 1024 * 1024, staticDir: null };
}
