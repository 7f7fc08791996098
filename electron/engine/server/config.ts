/** The HTTP server's settings. Composed with the others by config/config.ts. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const serverConfigSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  /**
   * When set, every request but /health must send `Authorization: Bearer <apiKey>`. A server
   * listening beyond loopback without one creates one on first run (`<home>/api-key`).
   */
  apiKey: z.string().min(16).nullable(),
  /** Host names clients may address the server by besides loopback ones and its own address (a reverse proxy's, a LAN name). */
  allowedHosts: z.array(z.string().min(1).max(253)).max(100),
  /** Origins (`scheme://host:port`) of web pages other than the served UI that may call the API. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin: scheme://host[:port], no path')).max(100),
  maxBodyBytes: positiveInt,
  /** Built renderer to serve to browsers; null = the one built with this package. */
  staticDir: z.string().nullable(),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

export function serverDefaults(): ServerConfig {
  return { host: '127.0.0.1', port: 7411, apiKey: null, allowedHosts: [], allowedOrigins: [], maxBodyBytes: 2 * 1024 * 1024, staticDir: null };
}
