/** Where the data lives: an embedded PGlite folder or a PostgreSQL server with pgvector (db/README.md). Composed with the others by config/config.ts. */
import { z } from 'zod';

export const databaseConfigSchema = z.strictObject({
  /** `postgres://…` to use a server (needs pgvector); null = embedded PGlite. `DATABASE_URL`. */
  url: z.string().min(1).nullable(),
  /** Embedded database folder; null = `<home>/db`. */
  dir: z.string().min(1).nullable(),
});

export type DatabaseConfig = z.infer<typeof databaseConfigSchema>;

export function databaseDefaults(): DatabaseConfig {
  return { url: null, dir: null };
}
