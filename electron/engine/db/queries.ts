import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';

/** Raw rows from either driver: PGlite and node-postgres both answer `{ rows }`. */
export async function selectRows<Row>(db: Db, query: SQL): Promise<Row[]> {
  const result: unknown = await db.execute(query);
  return (result as { rows: Row[] }).rows;
}

/**
 * Holds a lock named `key` until the transaction `tx` ends: serialises read-then-write sequences
 * (next version numbers, channel changes) across connections and processes sharing a database.
 */
export async function lockForTransaction(tx: Db, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${key}))`);
}

export interface SchemaReport {
  extensions: string[];
  tables: string[];
  appliedMigrations: number;
}

/** What start-up migrations left behind: used by diagnostics and the database tests. */
export async function schemaReport(db: Db): Promise<SchemaReport> {
  const [extensions, tables, migrations] = await Promise.all([
    selectRows<{ extname: string }>(db, sql`select extname from pg_extension order by extname`),
    selectRows<{ tablename: string }>(db, sql`select tablename from pg_tables where schemaname = 'public' order by tablename`),
    selectRows<{ count: string | number }>(db, sql`select count(*) as count from drizzle.__drizzle_migrations`),
  ]);
  return {
    extensions: extensions.map((row) => row.extname),
    tables: tables.map((row) => row.tablename),
    appliedMigrations: Number(migrations[0]?.count ?? 0),
  };
}
