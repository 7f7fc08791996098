import { desc, eq } from 'drizzle-orm';
import type { InteractionRecord, Timings } from '../../../shared/contract.js';
import type { SerializedError } from '../../../shared/errors.js';
import type { Db } from '../db/client.js';
import { interactions } from '../db/schema.js';

export type NewInteraction = typeof interactions.$inferInsert;
type InteractionRow = typeof interactions.$inferSelect;

export async function insertInteraction(db: Db, row: NewInteraction): Promise<void> {
  await db.insert(interactions).values(row);
}

export async function completeInteraction(db: Db, id: string, answer: string, timings: Timings): Promise<void> {
  await db.update(interactions).set({ answer, timings, status: 'completed', finishedAt: new Date() }).where(eq(interactions.id, id));
}

export async function endInteractionWithError(
  db: Db,
  id: string,
  status: 'failed' | 'cancelled',
  error: SerializedError,
  partialAnswer: string,
  timings: Timings | null,
): Promise<void> {
  await db
    .update(interactions)
    .set({ status, error, answer: partialAnswer || null, timings, finishedAt: new Date() })
    .where(eq(interactions.id, id));
}

export async function findInteraction(db: Db, id: string): Promise<InteractionRecord | null> {
  const rows = await db.select().from(interactions).where(eq(interactions.id, id)).limit(1);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listInteractions(db: Db, options: { limit: number; project?: string | undefined }): Promise<InteractionRecord[]> {
  const rows = await db
    .select()
    .from(interactions)
    .where(options.project === undefined ? undefined : eq(interactions.project, options.project))
    .orderBy(desc(interactions.createdAt), desc(interactions.id))
    .limit(options.limit);
  return rows.map(toRecord);
}

function toRecord(row: InteractionRow): InteractionRecord {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    source: row.source,
    question: row.question,
    history: row.history,
    project: row.project,
    answer: row.answer,
    status: row.status,
    error: row.error,
    cached: row.cached,
    cachedFrom: row.cachedFrom,
    model: row.model,
    modelFingerprint: row.modelFingerprint,
    adapters: row.adapters,
    timings: row.timings,
    retrieval: row.retrieval,
  };
}
