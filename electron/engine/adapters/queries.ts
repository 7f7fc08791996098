import { and, asc, desc, eq, isNotNull, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { lockForTransaction } from '../db/sql.js';
import { adapters, type AdapterChannel } from '../db/schema.js';

export type AdapterRow = typeof adapters.$inferSelect;
export type NewAdapterRow = Omit<typeof adapters.$inferInsert, 'version' | 'createdAt'>;

/**
 * Serialises every change to one adapter's versions and channels (registration, promotion,
 * rollback), across processes sharing a database, so concurrent changes queue instead of failing
 * on the unique version or on `adapters_one_stable_per_name` (at most one stable per name).
 */
export async function lockAdapterName(tx: Db, name: string): Promise<void> {
  await lockForTransaction(tx, `npllm-adapter:${name}`);
}

export async function nextAdapterVersion(tx: Db, name: string): Promise<number> {
  const [row] = await tx
    .select({ next: sql<number>`coalesce(max(${adapters.version}), 0) + 1`.mapWith(Number) })
    .from(adapters)
    .where(eq(adapters.name, name));
  return row!.next;
}

export async function insertAdapter(tx: Db, row: NewAdapterRow & { version: number }): Promise<AdapterRow> {
  const [inserted] = await tx.insert(adapters).values(row).returning();
  return inserted!;
}

export async function listAdapters(db: Db, name?: string): Promise<AdapterRow[]> {
  return db
    .select()
    .from(adapters)
    .where(name === undefined ? undefined : eq(adapters.name, name))
    .orderBy(asc(adapters.name), desc(adapters.version));
}

export async function findAdapter(db: Db, name: string, version: number): Promise<AdapterRow | null> {
  const rows = await db
    .select()
    .from(adapters)
    .where(and(eq(adapters.name, name), eq(adapters.version, version)))
    .limit(1);
  return rows[0] ?? null;
}

/** The newest version of `name` in `channel`. */
export async function latestInChannel(db: Db, name: string, channel: AdapterChannel): Promise<AdapterRow | null> {
  const rows = await db
    .select()
    .from(adapters)
    .where(and(eq(adapters.name, name), eq(adapters.channel, channel)))
    .orderBy(desc(adapters.version))
    .limit(1);
  return rows[0] ?? null;
}

/** Every version serving may choose from: stable and experimental ones (archived never serve). */
export async function servableAdapters(db: Db): Promise<AdapterRow[]> {
  return db.select().from(adapters).where(ne(adapters.channel, 'archived')).orderBy(asc(adapters.name), desc(adapters.version));
}

/** The version promoted most recently before `before` that is not stable now (rollback's default target). */
export async function previouslyPromoted(db: Db, name: string, before: Date): Promise<AdapterRow | null> {
  const rows = await db
    .select()
    .from(adapters)
    .where(and(eq(adapters.name, name), ne(adapters.channel, 'stable'), isNotNull(adapters.promotedAt), lt(adapters.promotedAt, before)))
    .orderBy(desc(adapters.promotedAt), desc(adapters.version))
    .limit(1);
  return rows[0] ?? null;
}

export async function setAdapterChannel(
  tx: Db,
  name: string,
  version: number,
  change: { channel: AdapterChannel; reason: string | null; promotedAt?: Date | null },
): Promise<AdapterRow> {
  const [row] = await tx
    .update(adapters)
    .set({ channel: change.channel, reason: change.reason, ...(change.promotedAt === undefined ? {} : { promotedAt: change.promotedAt }) })
    .where(and(eq(adapters.name, name), eq(adapters.version, version)))
    .returning();
  return row!;
}

/** Archives the stable version(s) of `name`; a rollback also takes back their promotion. */
export async function archiveStable(tx: Db, name: string, change: { reason: string; unpromote?: boolean }): Promise<AdapterRow[]> {
  return tx
    .update(adapters)
    .set({ channel: 'archived', reason: change.reason, ...(change.unpromote ? { promotedAt: null } : {}) })
    .where(and(eq(adapters.name, name), eq(adapters.channel, 'stable')))
    .returning();
}
