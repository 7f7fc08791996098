import { and, asc, count, desc, eq, gte, inArray, isNotNull, isNull, lt, max, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { AdapterUse, ChatMessage, ConversationSummary, InteractionRecord, Timings } from '../../../shared/contract.js';
import type { SerializedError } from '../../../shared/errors.js';
import type { Db } from '../db/client.js';
import { chunks, conversations, feedbackEvents, interactions, projects, rewards } from '../db/schema.js';

export type NewInteraction = typeof interactions.$inferInsert;
type InteractionRow = typeof interactions.$inferSelect;

/** Longest conversation title taken from its first question. */
const titleChars = 80;

/** The interaction, and the conversation it opens or continues, in one transaction. */
export async function insertInteraction(db: Db, row: NewInteraction): Promise<void> {
  const conversationId = row.conversationId;
  if (!conversationId) {
    await db.insert(interactions).values(row);
    return;
  }
  const at = row.createdAt ?? new Date();
  await db.transaction(async (tx) => {
    await tx
      .insert(conversations)
      .values({ id: conversationId, title: conversationTitle(row.question), project: row.project ?? null, createdAt: at, updatedAt: at })
      .onConflictDoUpdate({ target: conversations.id, set: { updatedAt: at } });
    await tx.insert(interactions).values(row);
  });
}

function conversationTitle(question: string): string {
  const line = question.trim().split('\n')[0]!.replace(/\s+/g, ' ');
  return line.length > titleChars ? `${line.slice(0, titleChars - 1)}…` : line || '…';
}

const conversationColumns = {
  id: conversations.id,
  title: conversations.title,
  project: conversations.project,
  createdAt: conversations.createdAt,
  updatedAt: conversations.updatedAt,
  // Qualified by hand: drizzle leaves single-table columns unqualified, which the subquery would read as its own.
  questions: sql<number>`(select count(*)::int from interactions where interactions.conversation_id = conversations.id)`,
};

function toSummary(row: { id: string; title: string; project: string | null; createdAt: Date; updatedAt: Date; questions: number }): ConversationSummary {
  return { ...row, questions: Number(row.questions), createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

/** `project` null: conversations without a project; undefined: all. */
export async function listConversations(db: Db, options: { project?: string | null | undefined; limit: number }): Promise<ConversationSummary[]> {
  const rows = await db
    .select(conversationColumns)
    .from(conversations)
    .where(options.project === undefined ? undefined : options.project === null ? isNull(conversations.project) : eq(conversations.project, options.project))
    .orderBy(desc(conversations.updatedAt), desc(conversations.id))
    .limit(options.limit);
  return rows.map(toSummary);
}

export async function findConversation(db: Db, id: string): Promise<{ conversation: ConversationSummary; interactions: InteractionRecord[] } | null> {
  const [row] = await db.select(conversationColumns).from(conversations).where(eq(conversations.id, id)).limit(1);
  if (!row) return null;
  const items = await db.select().from(interactions).where(eq(interactions.conversationId, id)).orderBy(asc(interactions.createdAt), asc(interactions.id));
  return { conversation: toSummary(row), interactions: items.map(toRecord) };
}

export async function renameConversation(db: Db, id: string, title: string): Promise<ConversationSummary | null> {
  const [row] = await db.update(conversations).set({ title, updatedAt: new Date() }).where(eq(conversations.id, id)).returning({ id: conversations.id });
  if (!row) return null;
  return (await findConversation(db, id))?.conversation ?? null;
}

/** The conversation's row goes; its interactions stay (training data, metrics), no longer grouped. */
export async function deleteConversation(db: Db, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const deleted = await tx.delete(conversations).where(eq(conversations.id, id)).returning({ id: conversations.id });
    if (deleted.length === 0) return false;
    await tx.update(interactions).set({ conversationId: null }).where(eq(interactions.conversationId, id));
    return true;
  });
}

/** Per project folder that questions were asked in: how many, and the latest. */
export async function questionsPerProject(db: Db): Promise<{ project: string; questions: number; lastAskedAt: Date | null }[]> {
  const rows = await db
    .select({ project: sql<string>`${interactions.project}`, questions: count(), lastAskedAt: max(interactions.createdAt) })
    .from(interactions)
    .where(isNotNull(interactions.project))
    .groupBy(interactions.project);
  return rows.map((row) => ({ project: row.project, questions: Number(row.questions), lastAskedAt: row.lastAskedAt ? new Date(row.lastAskedAt) : null }));
}

/** `adapters`: what really answered, when it differs from what the interaction was recorded with. */
export async function completeInteraction(db: Db, id: string, answer: string, timings: Timings, adapters?: AdapterUse[]): Promise<void> {
  await db
    .update(interactions)
    .set({ answer, timings, status: 'completed', finishedAt: new Date(), ...(adapters ? { adapters } : {}) })
    .where(eq(interactions.id, id));
}

/** What has been streamed so far, kept while the answer is still being generated: a crash then loses at most the tail. */
export async function savePartialAnswer(db: Db, id: string, partialAnswer: string): Promise<void> {
  await db
    .update(interactions)
    .set({ answer: partialAnswer })
    .where(and(eq(interactions.id, id), eq(interactions.status, 'pending')));
}

/** Interactions still being answered, with the process that answers each. */
export async function pendingInteractions(db: Db): Promise<{ id: string; worker: string | null }[]> {
  return db.select({ id: interactions.id, worker: interactions.worker }).from(interactions).where(eq(interactions.status, 'pending'));
}

/** Answers whose process died: `interrupted`, with what had been streamed as their answer. */
export async function markInterrupted(db: Db, ids: readonly string[], error: SerializedError): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db
    .update(interactions)
    .set({ status: 'interrupted', error, finishedAt: new Date() })
    .where(and(inArray(interactions.id, [...ids]), eq(interactions.status, 'pending')))
    .returning({ id: interactions.id });
  return rows.length;
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
    conversationId: row.conversationId,
    clientId: row.clientId,
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

export interface ChatTarget {
  interactionId: string;
  history: ChatMessage[];
  question: string;
  completion: string;
  reward: number;
}

/** Answered questions of a project whose reward reached the threshold. */
export async function acceptedAnswers(db: Db, project: string, threshold: number): Promise<ChatTarget[]> {
  return db
    .select({
      interactionId: interactions.id,
      history: interactions.history,
      question: interactions.question,
      completion: sql<string>`${interactions.answer}`,
      reward: rewards.reward,
    })
    .from(interactions)
    .innerJoin(rewards, eq(rewards.interactionId, interactions.id))
    .where(
      and(
        eq(interactions.project, project),
        eq(interactions.status, 'completed'),
        isNotNull(interactions.answer),
        ne(interactions.answer, ''),
        gte(rewards.reward, threshold),
      ),
    )
    .orderBy(asc(interactions.createdAt), asc(interactions.id));
}

/** The user's own final version of an answer they inserted and edited (the latest edit wins). */
export async function editedCorrections(db: Db, project: string): Promise<Omit<ChatTarget, 'reward'>[]> {
  return db
    .selectDistinctOn([interactions.id], {
      interactionId: interactions.id,
      history: interactions.history,
      question: interactions.question,
      completion: sql<string>`${feedbackEvents.text}`,
    })
    .from(feedbackEvents)
    .innerJoin(interactions, eq(interactions.id, feedbackEvents.interactionId))
    .where(and(eq(interactions.project, project), eq(feedbackEvents.type, 'edited'), isNotNull(feedbackEvents.text), sql`btrim(${feedbackEvents.text}) <> ''`))
    .orderBy(asc(interactions.id), desc(feedbackEvents.occurredAt), desc(feedbackEvents.receivedAt));
}

/**
 * A badly received answer whose follow-up question got a well received one: the later answer is
 * the better target for the earlier question.
 */
export async function followUpCorrections(db: Db, project: string, threshold: number): Promise<ChatTarget[]> {
  const better = alias(interactions, 'better');
  const betterReward = alias(rewards, 'better_reward');
  return db
    .select({
      interactionId: interactions.id,
      history: interactions.history,
      question: interactions.question,
      completion: sql<string>`${better.answer}`,
      reward: betterReward.reward,
    })
    .from(interactions)
    .innerJoin(rewards, eq(rewards.interactionId, interactions.id))
    .innerJoin(feedbackEvents, and(eq(feedbackEvents.interactionId, interactions.id), eq(feedbackEvents.type, 'follow-up')))
    .innerJoin(better, eq(better.id, sql`${feedbackEvents.detail} ->> 'followUpInteractionId'`))
    .innerJoin(betterReward, eq(betterReward.interactionId, better.id))
    .where(
      and(
        eq(interactions.project, project),
        lt(rewards.reward, 0),
        gte(betterReward.reward, threshold),
        eq(better.status, 'completed'),
        isNotNull(better.answer),
        ne(better.answer, ''),
      ),
    )
    .orderBy(asc(interactions.createdAt), asc(interactions.id));
}

/** The project's indexed chunks, in file order. */
export async function projectCode(
  db: Db,
  root: string,
): Promise<{ path: string; language: string; symbol: string | null; startLine: number; endLine: number; content: string }[]> {
  return db
    .select({
      path: chunks.relativePath,
      language: chunks.language,
      symbol: chunks.symbol,
      startLine: chunks.startLine,
      endLine: chunks.endLine,
      content: chunks.content,
    })
    .from(chunks)
    .innerJoin(projects, eq(projects.id, chunks.projectId))
    .where(eq(projects.root, root))
    .orderBy(asc(chunks.relativePath), asc(chunks.startLine));
}
