/**
 * The whole database schema, in one place. Column names are snake_case in SQL (drizzle `casing`).
 * Migrations under drizzle/ are generated from this file (`npm run db:generate`) and committed.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
  vector,
} from 'drizzle-orm/pg-core';
import type {
  AdapterUse,
  ChatMessage,
  DetectedStack,
  FeedbackEventType,
  InteractionStatus,
  ModulatorAction,
  ModulatorChannel,
  ModulatorMetrics,
  RetrievalReport,
  Timings,
} from '../../../shared/contract.js';
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
    /** The client's conversation id (the chat it was asked in; conversations holds its title) and identity: what implicit follow-ups are matched on (feedback/). */
    conversationId: text(),
    clientId: text(),
    /** The process answering while `pending` (host:pid:start), so a start-up can tell an orphan from a live answer. */
    worker: text(),
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
    /** The retrieval gate's decision, its reasons and the sources given to the model. */
    retrieval: jsonb().$type<RetrievalReport>(),
  },
  (table) => [
    index().on(table.createdAt),
    index().on(table.project, table.createdAt),
    index().on(table.conversationId, table.createdAt),
    index('interactions_pending')
      .on(table.status)
      .where(sql`${table.status} = 'pending'`),
  ],
);

/**
 * A chat as the app lists it (data-collection/): created with its first question, titled by it
 * until renamed. Deleting one removes this row only: its interactions stay, ungrouped.
 */
export const conversations = pgTable(
  'conversations',
  { id: text().primaryKey(), title: text().notNull(), project: text(), createdAt: createdAt(), updatedAt: createdAt() },
  (table) => [index().on(table.project, table.updatedAt)],
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

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Vectors of the default embedder (all-MiniLM-L6-v2); an embedder of another size needs a migration. */
export const embeddingDimensions = 384;

/** A folder indexed for retrieval (rag/). */
export const projects = pgTable('projects', {
  id: text().primaryKey(),
  root: text().notNull().unique(),
  embedderId: text().notNull(),
  createdAt: createdAt(),
  lastIndexedAt: timestamp({ withTimezone: true, mode: 'date' }),
  /** Chunks when `project_terms` was last counted: the N of document frequencies. */
  termStatsChunks: integer().notNull().default(0),
  /** The secret rules every indexed file was last checked with: newer rules re-check unchanged files too. */
  secretRules: text(),
});

/**
 * In how many of a project's chunks each search term occurs, counted after each indexing change:
 * full-text search keeps a question's rarer terms only, so ranking never walks most of the index.
 */
export const projectTerms = pgTable(
  'project_terms',
  {
    projectId: text()
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    term: text().notNull(),
    chunks: integer().notNull(),
  },
  (table) => [primaryKey({ columns: [table.projectId, table.term] })],
);

/**
 * One row per indexed file, written in the same transaction as its chunks: a file row exists
 * exactly when all of its chunks do, so an interrupted run never leaves half a file behind.
 */
export const projectFiles = pgTable(
  'project_files',
  {
    projectId: text()
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    relativePath: text().notNull(),
    size: bigint({ mode: 'number' }).notNull(),
    mtimeMs: doublePrecision().notNull(),
    contentHash: text().notNull(),
    language: text().notNull(),
    chunkCount: integer().notNull(),
    indexedAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.projectId, table.relativePath] })],
);

/** One function, method, class, section or window of a project file, with its embedding. */
export const chunks = pgTable(
  'chunks',
  {
    id: serial().primaryKey(),
    projectId: text()
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    relativePath: text().notNull(),
    language: text().notNull(),
    symbol: text(),
    kind: text().notNull(),
    startLine: integer().notNull(),
    endLine: integer().notNull(),
    content: text().notNull(),
    contentHash: text().notNull(),
    /** Path, symbol and identifiers split at case and underscores, for full-text search. */
    searchText: text().notNull(),
    searchVector: tsvector().generatedAlwaysAs(sql`to_tsvector('simple', search_text)`),
    embedding: vector({ dimensions: embeddingDimensions }).notNull(),
  },
  (table) => [
    index().on(table.projectId, table.relativePath),
    index().on(table.projectId, table.symbol),
    index('chunks_embedding_hnsw').using('hnsw', table.embedding.op('vector_cosine_ops')).with({ m: 16, ef_construction: 200 }),
    index('chunks_search_vector_gin').using('gin', table.searchVector),
  ],
);

/**
 * A project's confirmed stacks (context/). Confirming again adds a version, so what a model learned
 * under an earlier profile stays traceable.
 */
export const projectProfiles = pgTable(
  'project_profiles',
  {
    root: text().notNull(),
    version: integer().notNull(),
    stacks: jsonb().$type<DetectedStack[]>().notNull(),
    /** What detection proposed before the user confirmed or edited it. */
    proposal: jsonb().$type<DetectedStack[]>().notNull(),
    edited: boolean().notNull(),
    contextVector: jsonb().$type<number[]>().notNull(),
    confirmedAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.root, table.version] })],
);

/**
 * Implicit feedback about one interaction (feedback/), stored before it is acknowledged. The id is
 * the client's, so a retried event is recognised; `follow-up` rows are derived by the engine from
 * the user's next message.
 */
export const feedbackEvents = pgTable(
  'feedback_events',
  {
    id: text().primaryKey(),
    interactionId: text()
      .notNull()
      .references(() => interactions.id),
    type: text().$type<FeedbackEventType>().notNull(),
    value: doublePrecision(),
    text: text(),
    detail: jsonb().$type<Record<string, unknown>>(),
    occurredAt: timestamp({ withTimezone: true, mode: 'date' }).notNull(),
    receivedAt: createdAt(),
  },
  (table) => [index().on(table.interactionId), index().on(table.type, table.occurredAt)],
);

/** The reward of an interaction, recomputed from all its events whenever one arrives (feedback/). */
export const rewards = pgTable('rewards', {
  interactionId: text()
    .primaryKey()
    .references(() => interactions.id),
  reward: doublePrecision().notNull(),
  components: jsonb().$type<Record<string, number>>().notNull(),
  events: integer().notNull(),
  updatedAt: createdAt(),
});

export type AdapterChannel = 'experimental' | 'stable' | 'archived';

/**
 * Every LoRA adapter version (adapters/): the file in the data folder, what it was trained from
 * and on, and its channel. At most one version per name is `stable`, the one answers use.
 */
export const adapters = pgTable(
  'adapters',
  {
    name: text().notNull(),
    version: integer().notNull(),
    channel: text().$type<AdapterChannel>().notNull(),
    /** What the adapter learns across projects: a stack (`odoo`) or `user`. */
    scope: text().notNull(),
    /** The project whose consolidation produced this version, if any. */
    project: text(),
    baseModel: text().notNull(),
    /** The base GGUF's fingerprint: an adapter never serves another base. */
    baseModelFingerprint: text().notNull(),
    parentVersion: integer(),
    trainingRunId: text(),
    /** Relative to the data folder. */
    path: text().notNull(),
    sha256: text().notNull(),
    bytes: bigint({ mode: 'number' }).notNull(),
    rank: integer().notNull(),
    alpha: doublePrecision().notNull(),
    targets: jsonb().$type<string[]>().notNull(),
    /** MAS importance (Ω) file accumulated up to this version, relative to the data folder. */
    importancePath: text(),
    metrics: jsonb().$type<Record<string, unknown>>().notNull(),
    /** Why it is in its channel: promoted, kept experimental (and why), rolled back. */
    reason: text(),
    createdAt: createdAt(),
    promotedAt: timestamp({ withTimezone: true, mode: 'date' }),
  },
  (table) => [
    primaryKey({ columns: [table.name, table.version] }),
    index().on(table.name, table.channel),
    // The database itself refuses a second stable version, whatever a caller forgets.
    uniqueIndex('adapters_one_stable_per_name')
      .on(table.name)
      .where(sql`${table.channel} = 'stable'`),
  ],
);

export type TrainingRunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** One consolidation (learning/): its settings, loss curve, evaluations and outcome. */
export const trainingRuns = pgTable(
  'training_runs',
  {
    id: text().primaryKey(),
    adapterName: text().notNull(),
    project: text().notNull(),
    status: text().$type<TrainingRunStatus>().notNull(),
    startedAt: createdAt(),
    finishedAt: timestamp({ withTimezone: true, mode: 'date' }),
    settings: jsonb().$type<Record<string, unknown>>().notNull(),
    /** Loss per step. */
    lossCurve: jsonb().$type<number[]>().notNull(),
    /** Held-out NLL per project, before and after. */
    nllBefore: jsonb().$type<Record<string, number>>(),
    nllAfter: jsonb().$type<Record<string, number>>(),
    importanceStats: jsonb().$type<Record<string, number>>(),
    /** Data and speed: texts trained on and replayed, tokens, tokens/s, duration. */
    stats: jsonb().$type<Record<string, number>>(),
    /** The adapter version it produced, if any. */
    version: integer(),
    promoted: boolean(),
    reason: text(),
    error: jsonb().$type<SerializedError>(),
  },
  (table) => [index().on(table.adapterName, table.startedAt), index().on(table.project, table.startedAt)],
);

/**
 * Held-out NLL of one adapter version on one project's held-out set (learning/): the cells of the
 * forgetting matrix (versions × projects). Version 0 is the base model without the adapter.
 */
export const learningEvaluations = pgTable(
  'learning_evaluations',
  {
    adapterName: text().notNull(),
    version: integer().notNull(),
    project: text().notNull(),
    nll: doublePrecision().notNull(),
    tokens: integer().notNull(),
    /** The held-out set's fingerprint: a changed set makes earlier cells incomparable. */
    heldOutHash: text().notNull(),
    runId: text(),
    measuredAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.adapterName, table.version, table.project] })],
);

/**
 * The replay reservoir (learning/): past training texts across projects, kept by weighted
 * reservoir sampling (each row's `key` = u^(1/weight); the lowest keys leave when it is full).
 */
export const replayExamples = pgTable(
  'replay_examples',
  {
    id: serial().primaryKey(),
    adapterName: text().notNull(),
    project: text().notNull(),
    kind: text().notNull(),
    text: text().notNull(),
    tokens: integer().notNull(),
    contentHash: text().notNull(),
    key: doublePrecision().notNull(),
    addedAt: createdAt(),
  },
  (table) => [unique().on(table.adapterName, table.contentHash), index().on(table.adapterName, table.key)],
);

/**
 * Every version of the modulator's network (modulator/): its weights file in the data folder and
 * how it was judged. At most one version is `stable`, the one that plans answers; none = the prior.
 */
export const modulatorVersions = pgTable(
  'modulator_versions',
  {
    version: integer().primaryKey(),
    channel: text().$type<ModulatorChannel>().notNull(),
    /** `offline`: fitted to held-out oracle mixes; `online`: updated from rewards. */
    origin: text().$type<'offline' | 'online'>().notNull(),
    parentVersion: integer(),
    /** Relative to the data folder. */
    path: text().notNull(),
    sha256: text().notNull(),
    params: integer().notNull(),
    metrics: jsonb().$type<ModulatorMetrics>().notNull(),
    reason: text(),
    createdAt: createdAt(),
    promotedAt: timestamp({ withTimezone: true, mode: 'date' }),
  },
  (table) => [
    uniqueIndex('modulator_one_stable')
      .on(table.channel)
      .where(sql`${table.channel} = 'stable'`),
  ],
);

/**
 * The modulator's decision for one interaction (modulator/): its input features, the action taken,
 * the greedy one, and the probability of the action under the behaviour policy, so the reward the
 * interaction earns later can train and evaluate policies off-policy.
 */
export const modulatorDecisions = pgTable(
  'modulator_decisions',
  {
    interactionId: text()
      .primaryKey()
      .references(() => interactions.id),
    /** 0 = the prior decided. */
    version: integer().notNull(),
    source: text().$type<'network' | 'prior'>().notNull(),
    /** The network's input (modulator/features.ts StoredInput); null when the prior decided without one. */
    features: jsonb().$type<Record<string, unknown>>(),
    /** Candidate adapters in the order of the action's levels. */
    candidates: jsonb().$type<{ name: string; version: string; scale: number }[]>().notNull(),
    action: jsonb().$type<ModulatorAction>().notNull(),
    greedy: jsonb().$type<ModulatorAction>().notNull(),
    propensity: doublePrecision().notNull(),
    explored: boolean().notNull(),
    cached: boolean().notNull(),
    reasons: jsonb().$type<string[]>().notNull(),
    createdAt: createdAt(),
    /** When an online update used its reward; null until then. */
    learnedAt: timestamp({ withTimezone: true, mode: 'date' }),
  },
  (table) => [index().on(table.createdAt), index().on(table.learnedAt)],
);

/** A training run as stored: learning/ writes it, metrics/ reports it. */
export type TrainingRunRow = typeof trainingRuns.$inferSelect;
/** One held-out measurement (adapter version × project) as stored: learning/ writes it, metrics/ reports it. */
export type EvaluationRow = typeof learningEvaluations.$inferSelect;
