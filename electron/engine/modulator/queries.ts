/** All SQL of the modulator: its versions, its decisions and what it reads of rewards, evaluations and the index. */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, sql } from 'drizzle-orm';
import type { ModulatorAction, ModulatorChannel, ModulatorMetrics } from '../../../shared/contract.js';
import type { Db } from '../db/client.js';
import { lockForTransaction, selectRows } from '../db/sql.js';
import { adapters, interactions, learningEvaluations, modulatorDecisions, modulatorVersions, rewards } from '../db/schema.js';

export type ModulatorVersionRow = typeof modulatorVersions.$inferSelect;
export type NewDecisionRow = typeof modulatorDecisions.$inferInsert;

export async function insertDecision(db: Db, row: NewDecisionRow): Promise<void> {
  await db.insert(modulatorDecisions).values(row).onConflictDoNothing();
}

/** A logged decision with the reward its interaction earned. */
export interface RewardedDecision {
  interactionId: string;
  version: number;
  features: Record<string, unknown> | null;
  action: ModulatorAction;
  propensity: number;
  explored: boolean;
  cached: boolean;
  reward: number;
  createdAt: Date;
}

const rewardedColumns = {
  interactionId: modulatorDecisions.interactionId,
  version: modulatorDecisions.version,
  features: modulatorDecisions.features,
  action: modulatorDecisions.action,
  propensity: modulatorDecisions.propensity,
  explored: modulatorDecisions.explored,
  cached: modulatorDecisions.cached,
  reward: rewards.reward,
  createdAt: modulatorDecisions.createdAt,
};

/** Decisions whose reward has settled and that no online update has used yet, oldest first. */
export async function settledDecisions(db: Db, options: { before: Date; limit: number }): Promise<RewardedDecision[]> {
  return db
    .select(rewardedColumns)
    .from(modulatorDecisions)
    .innerJoin(rewards, eq(rewards.interactionId, modulatorDecisions.interactionId))
    .where(and(isNull(modulatorDecisions.learnedAt), lte(modulatorDecisions.createdAt, options.before), isNotNull(modulatorDecisions.features)))
    .orderBy(asc(modulatorDecisions.createdAt))
    .limit(options.limit);
}

export async function markLearned(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(modulatorDecisions)
    .set({ learnedAt: new Date() })
    .where(inArray(modulatorDecisions.interactionId, [...ids]));
}

/** Every rewarded decision with features, newest first: the logs off-policy evaluation reads. */
export async function loggedDecisions(db: Db, limit: number): Promise<RewardedDecision[]> {
  return db
    .select(rewardedColumns)
    .from(modulatorDecisions)
    .innerJoin(rewards, eq(rewards.interactionId, modulatorDecisions.interactionId))
    .where(isNotNull(modulatorDecisions.features))
    .orderBy(desc(modulatorDecisions.createdAt))
    .limit(limit);
}

export async function decisionCounts(db: Db): Promise<{ pending: number; learned: number; lastLearnedAt: Date | null }> {
  const [row] = await selectRows<{ pending: string | number; learned: string | number; last: Date | string | null }>(
    db,
    sql`select count(*) filter (where ${modulatorDecisions.learnedAt} is null and ${modulatorDecisions.features} is not null) as pending,
               count(*) filter (where ${modulatorDecisions.learnedAt} is not null) as learned,
               max(${modulatorDecisions.learnedAt}) as last
        from ${modulatorDecisions}`,
  );
  return { pending: Number(row?.pending ?? 0), learned: Number(row?.learned ?? 0), lastLearnedAt: row?.last ? new Date(row.last) : null };
}

export async function recentDecisions(db: Db, limit: number) {
  return db
    .select({
      interactionId: modulatorDecisions.interactionId,
      createdAt: modulatorDecisions.createdAt,
      question: interactions.question,
      project: interactions.project,
      version: modulatorDecisions.version,
      source: modulatorDecisions.source,
      candidates: modulatorDecisions.candidates,
      action: modulatorDecisions.action,
      explored: modulatorDecisions.explored,
      cached: modulatorDecisions.cached,
      reward: rewards.reward,
    })
    .from(modulatorDecisions)
    .innerJoin(interactions, eq(interactions.id, modulatorDecisions.interactionId))
    .leftJoin(rewards, eq(rewards.interactionId, modulatorDecisions.interactionId))
    .orderBy(desc(modulatorDecisions.createdAt))
    .limit(limit);
}

export async function listVersions(db: Db): Promise<ModulatorVersionRow[]> {
  return db.select().from(modulatorVersions).orderBy(desc(modulatorVersions.version));
}

export async function stableVersion(db: Db): Promise<ModulatorVersionRow | null> {
  const rows = await db.select().from(modulatorVersions).where(eq(modulatorVersions.channel, 'stable')).limit(1);
  return rows[0] ?? null;
}

export async function findVersion(db: Db, version: number): Promise<ModulatorVersionRow | null> {
  const rows = await db.select().from(modulatorVersions).where(eq(modulatorVersions.version, version)).limit(1);
  return rows[0] ?? null;
}

/** Registers a version under the modulator's lock, so concurrent registrations get distinct numbers. */
export async function registerVersion(
  db: Db,
  row: Omit<typeof modulatorVersions.$inferInsert, 'version' | 'channel' | 'path'>,
  write: (version: number) => Promise<string>,
): Promise<ModulatorVersionRow> {
  return db.transaction(async (tx) => {
    await lockForTransaction(tx, 'npllm-modulator');
    const [next] = await tx.select({ next: sql<number>`coalesce(max(${modulatorVersions.version}), 0) + 1`.mapWith(Number) }).from(modulatorVersions);
    const version = next!.next;
    const path = await write(version);
    const [inserted] = await tx
      .insert(modulatorVersions)
      .values({ ...row, version, path, channel: 'experimental' })
      .returning();
    return inserted!;
  });
}

/** `version` becomes stable (the stable one before it archived), in one transaction. */
export async function promoteVersion(db: Db, version: number, reason: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockForTransaction(tx, 'npllm-modulator');
    await tx
      .update(modulatorVersions)
      .set({ channel: 'archived', reason: `replaced by v${version}` })
      .where(eq(modulatorVersions.channel, 'stable'));
    await tx.update(modulatorVersions).set({ channel: 'stable', reason, promotedAt: new Date() }).where(eq(modulatorVersions.version, version));
  });
}

export async function updateVersion(
  db: Db,
  version: number,
  change: { metrics?: ModulatorMetrics; reason?: string; channel?: ModulatorChannel },
): Promise<void> {
  await db.update(modulatorVersions).set(change).where(eq(modulatorVersions.version, version));
}

/** Held-out NLL of every adapter version measured on this project (version 0 = the base), for the prior's harm rule and the features. */
export async function projectEvaluations(db: Db, project: string): Promise<{ adapterName: string; version: number; nll: number; heldOutHash: string }[]> {
  return db
    .select({
      adapterName: learningEvaluations.adapterName,
      version: learningEvaluations.version,
      nll: learningEvaluations.nll,
      heldOutHash: learningEvaluations.heldOutHash,
    })
    .from(learningEvaluations)
    .where(eq(learningEvaluations.project, project));
}

/** Projects an adapter learned up to `version` (its own and its ancestors' consolidations). */
export async function adapterProjects(db: Db, name: string, version: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ project: adapters.project })
    .from(adapters)
    .where(and(eq(adapters.name, name), lte(adapters.version, version), isNotNull(adapters.project)));
  return rows.map((row) => row.project!).sort();
}

/** Mean embedding of the indexed chunks of these projects (what an adapter learned from), null if none is indexed. */
export async function projectsCentroid(db: Db, roots: readonly string[]): Promise<Float32Array | null> {
  if (roots.length === 0) return null;
  const [row] = await selectRows<{ centroid: string | null }>(
    db,
    sql`select avg(c.embedding)::text as centroid from chunks c join projects p on p.id = c.project_id where p.root in (${sql.join(
      roots.map((root) => sql`${root}`),
      sql`, `,
    )})`,
  );
  if (!row?.centroid) return null;
  return Float32Array.from(
    row.centroid
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map(Number),
  );
}

/** Every (adapter, project) pair a registered version learned: where held-out examples exist. */
export async function learnedPairs(db: Db): Promise<{ adapter: string; project: string }[]> {
  const rows = await db
    .selectDistinct({ adapter: adapters.name, project: adapters.project })
    .from(adapters)
    .where(isNotNull(adapters.project))
    .orderBy(asc(adapters.name), asc(adapters.project));
  return rows.map((row) => ({ adapter: row.adapter, project: row.project! }));
}
