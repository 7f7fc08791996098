import { and, asc, count, eq, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { replayExamples } from '../db/schema.js';

export type ReplayRow = typeof replayExamples.$inferSelect;
export type NewReplayRow = typeof replayExamples.$inferInsert;

/** Rows already in the reservoir (same adapter, same content) are left as they are. */
export async function insertReplayExamples(db: Db, rows: readonly NewReplayRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db.insert(replayExamples).values([...rows]).onConflictDoNothing().returning({ id: replayExamples.id });
  return inserted.length;
}

/** Deletes the lowest keys beyond `capacity`: weighted reservoir sampling's eviction. */
export async function trimReservoir(db: Db, adapterName: string, capacity: number): Promise<number> {
  const deleted = await db.execute(sql`
    delete from ${replayExamples} where id in (
      select id from ${replayExamples} where adapter_name = ${adapterName}
      order by key desc, id desc offset ${capacity}
    )`);
  return (deleted as { affectedRows?: number; rowCount?: number }).affectedRows ?? (deleted as { rowCount?: number }).rowCount ?? 0;
}

export async function reservoirSize(db: Db, adapterName: string): Promise<number> {
  const [row] = await db.select({ value: count() }).from(replayExamples).where(eq(replayExamples.adapterName, adapterName));
  return row?.value ?? 0;
}

/** A uniform sample of the reservoir, optionally without one project's rows (they are trained on directly). */
export async function sampleReplayRows(db: Db, options: { adapterName: string; excludeProject?: string | undefined; limit: number; seed: number }): Promise<ReplayRow[]> {
  // md5 of the id and a seed: a random order that repeats for the same seed, so a resumed run replays the same rows.
  return db
    .select()
    .from(replayExamples)
    .where(and(eq(replayExamples.adapterName, options.adapterName), options.excludeProject === undefined ? undefined : ne(replayExamples.project, options.excludeProject)))
    .orderBy(sql`md5(${replayExamples.id}::text || ':' || ${String(options.seed)})`, asc(replayExamples.id))
    .limit(options.limit);
}
