/**
 * SQL helpers every capability's queries.ts may use: raw rows from either driver, and a lock held
 * for the length of a transaction.
 */
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
