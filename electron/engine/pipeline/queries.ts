import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { responseCache } from '../db/schema.js';

export type CachedAnswer = typeof responseCache.$inferSelect;

export async function findCachedAnswer(db: Db, cacheKey: string): Promise<CachedAnswer | null> {
  const rows = await db.select().from(responseCache).where(eq(responseCache.cacheKey, cacheKey)).limit(1);
  return rows[0] ?? null;
}

export async function storeCachedAnswer(db: Db, entry: typeof responseCache.$inferInsert): Promise<void> {
  await db
    .insert(responseCache)
    .values(entry)
    .onConflictDoUpdate({
      target: responseCache.cacheKey,
      set: { interactionId: entry.interactionId, answer: entry.answer, tokens: entry.tokens, createdAt: new Date(), hits: 0, lastHitAt: null },
    });
}

export async function countCacheHit(db: Db, cacheKey: string): Promise<void> {
  await db
    .update(responseCache)
    .set({ hits: sql`${responseCache.hits} + 1`, lastHitAt: new Date() })
    .where(eq(responseCache.cacheKey, cacheKey));
}
