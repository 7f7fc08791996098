import { and, desc, eq, gte, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { feedbackEvents, interactions, rewards } from '../db/schema.js';

export type FeedbackEventRow = typeof feedbackEvents.$inferSelect;
export type NewFeedbackEvent = typeof feedbackEvents.$inferInsert;

/**
 * The interaction an event is about, locked until the transaction ends: two events for the same
 * answer arriving at once would otherwise each recompute the reward without the other.
 */
export async function lockInteraction(db: Db, id: string): Promise<{ id: string; answer: string | null } | null> {
  const rows = await db.select({ id: interactions.id, answer: interactions.answer }).from(interactions).where(eq(interactions.id, id)).for('update');
  return rows[0] ?? null;
}

export async function findEvent(db: Db, id: string): Promise<FeedbackEventRow | null> {
  const rows = await db.select().from(feedbackEvents).where(eq(feedbackEvents.id, id)).limit(1);
  return rows[0] ?? null;
}

/** False when an event with this id already exists. */
export async function insertEvent(db: Db, event: NewFeedbackEvent): Promise<boolean> {
  const inserted = await db.insert(feedbackEvents).values(event).onConflictDoNothing().returning({ id: feedbackEvents.id });
  return inserted.length === 1;
}

export async function updateEventValue(db: Db, id: string, value: number): Promise<void> {
  await db
    .update(feedbackEvents)
    .set({ value, receivedAt: sql`now()` })
    .where(eq(feedbackEvents.id, id));
}

export async function eventsOf(db: Db, interactionId: string): Promise<FeedbackEventRow[]> {
  return db.select().from(feedbackEvents).where(eq(feedbackEvents.interactionId, interactionId));
}

export async function storeReward(db: Db, row: { interactionId: string; reward: number; components: Record<string, number>; events: number }): Promise<void> {
  await db
    .insert(rewards)
    .values(row)
    .onConflictDoUpdate({ target: rewards.interactionId, set: { reward: row.reward, components: row.components, events: row.events, updatedAt: sql`now()` } });
}

export async function findReward(db: Db, interactionId: string): Promise<typeof rewards.$inferSelect | null> {
  const rows = await db.select().from(rewards).where(eq(rewards.interactionId, interactionId)).limit(1);
  return rows[0] ?? null;
}

export async function findInteractionQuestion(db: Db, id: string): Promise<{ id: string; question: string } | null> {
  const rows = await db.select({ id: interactions.id, question: interactions.question }).from(interactions).where(eq(interactions.id, id)).limit(1);
  return rows[0] ?? null;
}

const blank = ' \t\r\n';

/** The same client, or both anonymous: an anonymous message never follows a named client's answer, nor the reverse. */
function sameClient(clientId: string | null) {
  return clientId === null ? isNull(interactions.clientId) : eq(interactions.clientId, clientId);
}

/** The same client's latest answered interaction since `since` (this one excluded) that also meets `conditions`. */
async function latestAnswered(
  db: Db,
  options: { clientId: string | null; since: Date; excludeId: string },
  ...conditions: (SQL | undefined)[]
): Promise<{ id: string; question: string } | null> {
  const rows = await db
    .select({ id: interactions.id, question: interactions.question })
    .from(interactions)
    .where(
      and(
        ...conditions,
        sameClient(options.clientId),
        eq(interactions.status, 'completed'),
        gte(interactions.createdAt, options.since),
        ne(interactions.id, options.excludeId),
      ),
    )
    .orderBy(desc(interactions.createdAt), desc(interactions.id))
    .limit(1);
  return rows[0] ?? null;
}

/** The latest answered interaction of a conversation (and its client) since `since`: what a new message of it follows up. */
export function latestInConversation(
  db: Db,
  options: { conversationId: string; clientId: string | null; since: Date; excludeId: string },
): Promise<{ id: string; question: string } | null> {
  return latestAnswered(db, options, eq(interactions.conversationId, options.conversationId));
}

/**
 * The interaction a conversation's history ends with: the same client's latest answered question
 * whose answer (and, when the history has it, question) the client sent back as its last turns.
 */
export function answeredInHistory(
  db: Db,
  options: { answer: string; question: string | null; clientId: string | null; since: Date; excludeId: string },
): Promise<{ id: string; question: string } | null> {
  return latestAnswered(
    db,
    options,
    // Clients trim what they send back; the text is otherwise the answer as given.
    sql`btrim(${interactions.answer}, ${blank}) = btrim(${options.answer}, ${blank})`,
    options.question === null ? undefined : sql`btrim(${interactions.question}, ${blank}) = btrim(${options.question}, ${blank})`,
  );
}
