/** The log's settings. Composed with the others by config/config.ts. */
import { z } from 'zod';

export const logConfigSchema = z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error', 'silent']) });

export type LogConfig = z.infer<typeof logConfigSchema>;

export function logDefaults(): LogConfig {
  return { level: 'info' };
}
