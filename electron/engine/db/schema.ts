/**
 * The whole database schema, in one place. Column names are snake_case in SQL (drizzle `casing`).
 * Migrations under drizzle/ are generated from this file (`npm run db:generate`) and committed.
 */
import { boolean, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { AdapterUse, ChatMessage, InteractionStatus, Timings } from '../../../shared/contract.js';
import type { SerializedError } from '../../../shared/errors.js';

const createdAt = () => timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow();

/** Every question asked, recorded before its answer is acknowledged (data-collection/). */
export const interactions = pgTable(
  'interactions',
  {
    id: text().primaryKey(),
    createdAt: createdAt(),
    finishedAt: timestamp({ withTimezone: true, mode: 'date' }),
    source: text().notNull(),
    question: text().notNull(),
    normalizedQuestion: text().notNull(),
    history: jsonb().$type<ChatMessage[]>().notNull(),
    project: text(),
    cacheKey: text().notNull(),
    answer: text(),
    status: text().$type<InteractionStatus>().notNull(),
    error: jsonb().$type<SerializedError>(),
    cached: boolean().notNull().default(false),
    cachedFrom: text(),
    model: text().notNull(),
    modelFingerprint: text().notNull(),
    adapters: jsonb().$type<AdapterUse[]>().notNull(),
    timings: jsonb().$type<Timings>(),
  },
  (table) => [index().on(table.createdAt), index().on(table.project, table.createdAt)],
);

/** Answers reusable for the same normalised question, context, model and adapters (pipeline/). */
export const responseCache = pgTable('response_cache', {
  cacheKey: text().primaryKey(),
  interactionId: text()
    .notNull()
    .references(() => interactions.id),
  answer: text().notNull(),
  tokens: integer().notNull(),
  modelFingerprint: text().notNull(),
  createdAt: createdAt(),
  hits: integer().notNull().default(0),
  lastHitAt: timestamp({ withTimezone: true, mode: 'date' }),
});
