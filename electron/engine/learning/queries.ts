import { and, asc, count, desc, eq, gt, inArray, isNotNull, max, min, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { interactions, learningEvaluations, projects, replayExamples, trainingRuns, type EvaluationRow, type TrainingRunRow } from '../db/schema.js';

export type ReplayRow = typeof replayExamples.$inferSelect;
export type NewReplayRow = typeof replayExamples.$inferInsert;

/** Rows already in the reservoir (same adapter, same content) are left as they are. */
export async function insertReplayExamples(db: Db, rows: readonly NewReplayRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(replayExamples)
    .values([...rows])
    .onConflictDoNothing()
    .returning({ id: replayExamples.id });
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
export async function sampleReplayRows(
  db: Db,
  options: { adapterName: string; excludeProject?: string | undefined; limit: number; seed: number },
): Promise<ReplayRow[]> {
  // md5 of the id and a seed: a random order that repeats for the same seed, so a resumed run replays the same rows.
  return db
    .select()
    .from(replayExamples)
    .where(
      and(
        eq(replayExamples.adapterName, options.adapterName),
        options.excludeProject === undefined ? undefined : ne(replayExamples.project, options.excludeProject),
      ),
    )
    .orderBy(sql`md5(${replayExamples.id}::text || ':' || ${String(options.seed)})`, asc(replayExamples.id))
    .limit(options.limit);
}

export type { EvaluationRow, TrainingRunRow } from '../db/schema.js';

export async function insertTrainingRun(db: Db, row: typeof trainingRuns.$inferInsert): Promise<void> {
  await db.insert(trainingRuns).values(row);
}

export async function updateTrainingRun(db: Db, id: string, change: Partial<Omit<typeof trainingRuns.$inferInsert, 'id'>>): Promise<void> {
  await db.update(trainingRuns).set(change).where(eq(trainingRuns.id, id));
}

/** Adapters with a run still marked running. */
export async function adaptersWithRunningRuns(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ adapterName: trainingRuns.adapterName }).from(trainingRuns).where(eq(trainingRuns.status, 'running'));
  return rows.map((row) => row.adapterName);
}

export async function runningTrainingRuns(db: Db, adapterName: string): Promise<TrainingRunRow[]> {
  return db
    .select()
    .from(trainingRuns)
    .where(and(eq(trainingRuns.adapterName, adapterName), eq(trainingRuns.status, 'running')));
}

/** Projects an adapter has learned, in the order it first learned them. */
export async function learnedProjects(db: Db, adapterName: string): Promise<string[]> {
  const rows = await db
    .select({ project: trainingRuns.project, first: min(trainingRuns.startedAt) })
    .from(trainingRuns)
    .where(and(eq(trainingRuns.adapterName, adapterName), eq(trainingRuns.status, 'completed')))
    .groupBy(trainingRuns.project)
    .orderBy(min(trainingRuns.startedAt));
  return rows.map((row) => row.project);
}

export async function findEvaluation(db: Db, key: { adapterName: string; version: number; project: string }): Promise<EvaluationRow | null> {
  const [row] = await db
    .select()
    .from(learningEvaluations)
    .where(
      and(eq(learningEvaluations.adapterName, key.adapterName), eq(learningEvaluations.version, key.version), eq(learningEvaluations.project, key.project)),
    );
  return row ?? null;
}

/** The latest measurement of a cell replaces the earlier one. */
export async function upsertEvaluations(db: Db, rows: readonly (typeof learningEvaluations.$inferInsert)[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(learningEvaluations)
    .values([...rows])
    .onConflictDoUpdate({
      target: [learningEvaluations.adapterName, learningEvaluations.version, learningEvaluations.project],
      set: {
        nll: sql`excluded.nll`,
        tokens: sql`excluded.tokens`,
        heldOutHash: sql`excluded.held_out_hash`,
        runId: sql`excluded.run_id`,
        measuredAt: sql`excluded.measured_at`,
      },
    });
}

/** When the project was last learned (any adapter), and whether the user asked anything there since. */
export async function learnedSince(db: Db, project: string): Promise<{ lastRun: Date | null; newInteractions: number }> {
  const [last] = await db
    .select({ at: max(trainingRuns.startedAt) })
    .from(trainingRuns)
    .where(and(eq(trainingRuns.project, project), inArray(trainingRuns.status, ['completed', 'running'])));
  const lastRun = last?.at ?? null;
  if (!lastRun) return { lastRun: null, newInteractions: 0 };
  const [fresh] = await db
    .select({ value: count() })
    .from(interactions)
    .where(and(eq(interactions.project, project), gt(interactions.createdAt, lastRun)));
  return { lastRun, newInteractions: fresh?.value ?? 0 };
}

/** Indexed project roots, most recently indexed first (forward transfer's candidates). */
export async function indexedProjects(db: Db): Promise<string[]> {
  const rows = await db
    .select({ root: projects.root })
    .from(projects)
    .where(isNotNull(projects.lastIndexedAt))
    .orderBy(desc(projects.lastIndexedAt), asc(projects.root));
  return rows.map((row) => row.root);
}
