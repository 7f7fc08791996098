import { asc, desc, eq, sql } from 'drizzle-orm';
import type { BehaviourMetrics, DetectedStack } from '../../../shared/contract.js';
import type { Db } from '../db/client.js';
import { selectRows } from '../db/sql.js';
import { adapters, learningEvaluations, trainingRuns } from '../db/schema.js';
import type { EvaluationRow, TrainingRunRow } from '../db/schema.js';

interface MetricsRow {
  grouping: 'overall' | 'project' | 'day';
  project: string | null;
  day: string | null;
  interactions: number;
  answered: number;
  accepted: number;
  regenerated: number;
  followed: number;
  frustrated: number;
  rewarded: number;
  mean_reward: number | null;
  cached: number;
  retrieved: number;
  ttft_p50: number | null;
  ttft_p95: number | null;
  total_p50: number | null;
  total_p95: number | null;
}

export interface GroupedMetrics {
  overall: BehaviourMetrics;
  projects: ({ project: string | null } & BehaviourMetrics)[];
  daily: ({ day: string } & BehaviourMetrics)[];
}

/**
 * Every behaviour metric, overall, per project and per UTC day, in one pass over the interactions
 * since `since` (GROUPING SETS). Latency percentiles count generated answers only: a cache hit's
 * 2 ms would hide how fast the model is.
 */
export async function behaviourMetrics(db: Db, options: { since: Date; project?: string | undefined }): Promise<GroupedMetrics> {
  const rows = await selectRows<MetricsRow>(
    db,
    sql`
      with base as (
        select i.project,
               to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
               i.status = 'completed' as answered,
               i.cached,
               coalesce((i.retrieval ->> 'used')::boolean, false) as retrieved,
               case when not i.cached and i.status = 'completed' then (i.timings ->> 'ttftMs')::float8 end as ttft,
               case when not i.cached and i.status = 'completed' then (i.timings ->> 'totalMs')::float8 end as total,
               r.reward,
               exists (select 1 from feedback_events e where e.interaction_id = i.id and e.type in ('copied', 'inserted', 'edited')) as accepted,
               exists (select 1 from feedback_events e where e.interaction_id = i.id and e.type = 'regenerated') as regenerated,
               exists (select 1 from feedback_events e where e.interaction_id = i.id and e.type = 'follow-up') as followed,
               exists (select 1 from feedback_events e where e.interaction_id = i.id and e.type = 'follow-up' and e.detail ->> 'label' = 'frustration') as frustrated
        from interactions i
        left join rewards r on r.interaction_id = i.id
        where i.created_at >= ${options.since}
          ${options.project === undefined ? sql`` : sql`and i.project = ${options.project}`}
      )
      select case when grouping(project) = 0 then 'project' when grouping(day) = 0 then 'day' else 'overall' end as grouping,
             project, day,
             count(*)::int as interactions,
             count(*) filter (where answered)::int as answered,
             count(*) filter (where answered and accepted)::int as accepted,
             count(*) filter (where answered and regenerated)::int as regenerated,
             count(*) filter (where followed)::int as followed,
             count(*) filter (where frustrated)::int as frustrated,
             count(reward)::int as rewarded,
             avg(reward) as mean_reward,
             count(*) filter (where cached)::int as cached,
             count(*) filter (where retrieved)::int as retrieved,
             percentile_cont(0.5) within group (order by ttft) as ttft_p50,
             percentile_cont(0.95) within group (order by ttft) as ttft_p95,
             percentile_cont(0.5) within group (order by total) as total_p50,
             percentile_cont(0.95) within group (order by total) as total_p95
      from base
      group by grouping sets ((), (project), (day))
      order by grouping, day, project nulls first`,
  );
  const overall = rows.find((row) => row.grouping === 'overall');
  return {
    overall: overall ? toMetrics(overall) : emptyMetrics(),
    projects: rows.filter((row) => row.grouping === 'project').map((row) => ({ project: row.project, ...toMetrics(row) })),
    daily: rows.filter((row) => row.grouping === 'day').map((row) => ({ day: row.day!, ...toMetrics(row) })),
  };
}

export async function recentRewards(
  db: Db,
  options: { limit: number; project?: string | undefined },
): Promise<{ interactionId: string; createdAt: string; question: string; project: string | null; reward: number; events: number }[]> {
  const rows = await selectRows<{ id: string; created_at: Date | string; question: string; project: string | null; reward: number; events: number }>(
    db,
    sql`select i.id, i.created_at, left(i.question, 200) as question, i.project, r.reward, r.events
        from rewards r join interactions i on i.id = r.interaction_id
        ${options.project === undefined ? sql`` : sql`where i.project = ${options.project}`}
        order by r.updated_at desc, i.id desc
        limit ${options.limit}`,
  );
  return rows.map((row) => ({
    interactionId: row.id,
    createdAt: new Date(row.created_at).toISOString(),
    question: row.question,
    project: row.project,
    reward: row.reward,
    events: row.events,
  }));
}

export interface AdapterVersionRow {
  name: string;
  version: number;
  channel: (typeof adapters.$inferSelect)['channel'];
  /** The version's own project, else its training run's. */
  project: string | null;
  parentVersion: number | null;
  createdAt: Date;
}

/** Every adapter name that has a version, a training run or an evaluation: a first run that failed still shows. */
export async function learningAdapterNames(db: Db, name?: string): Promise<string[]> {
  const only = (column: string) => (name === undefined ? sql`` : sql`where ${sql.identifier(column)} = ${name}`);
  const rows = await selectRows<{ name: string }>(
    db,
    sql`select name from ${adapters} ${only('name')}
        union select adapter_name from ${trainingRuns} ${only('adapter_name')}
        union select adapter_name from ${learningEvaluations} ${only('adapter_name')}`,
  );
  return rows.map((row) => row.name);
}

export async function adapterVersions(db: Db, name?: string): Promise<AdapterVersionRow[]> {
  return db
    .select({
      name: adapters.name,
      version: adapters.version,
      channel: adapters.channel,
      project: sql<string | null>`coalesce(${adapters.project}, ${trainingRuns.project})`,
      parentVersion: adapters.parentVersion,
      createdAt: adapters.createdAt,
    })
    .from(adapters)
    .leftJoin(trainingRuns, eq(trainingRuns.id, adapters.trainingRunId))
    .where(name === undefined ? undefined : eq(adapters.name, name))
    .orderBy(asc(adapters.name), asc(adapters.version));
}

export async function learningEvaluationRows(db: Db, name?: string): Promise<EvaluationRow[]> {
  return db
    .select()
    .from(learningEvaluations)
    .where(name === undefined ? undefined : eq(learningEvaluations.adapterName, name))
    .orderBy(asc(learningEvaluations.adapterName), asc(learningEvaluations.version), asc(learningEvaluations.project));
}

/** One adapter's latest training runs, newest first. */
export async function recentTrainingRuns(db: Db, name: string, limit: number): Promise<TrainingRunRow[]> {
  return db.select().from(trainingRuns).where(eq(trainingRuns.adapterName, name)).orderBy(desc(trainingRuns.startedAt), desc(trainingRuns.id)).limit(limit);
}

function toMetrics(row: MetricsRow): BehaviourMetrics {
  const share = (count: number, of: number) => (of === 0 ? null : round(count / of));
  const ms = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
  return {
    interactions: row.interactions,
    acceptanceRate: share(row.accepted, row.answered),
    regenerateRate: share(row.regenerated, row.answered),
    frustrationRate: share(row.frustrated, row.followed),
    meanReward: row.mean_reward === null ? null : round(row.mean_reward),
    rewarded: row.rewarded,
    cacheHitRate: share(row.cached, row.interactions),
    retrievalRate: share(row.retrieved, row.interactions),
    latencyMs: { ttftP50: ms(row.ttft_p50), ttftP95: ms(row.ttft_p95), totalP50: ms(row.total_p50), totalP95: ms(row.total_p95) },
  };
}

function emptyMetrics(): BehaviourMetrics {
  return toMetrics({
    grouping: 'overall',
    project: null,
    day: null,
    interactions: 0,
    answered: 0,
    accepted: 0,
    regenerated: 0,
    followed: 0,
    frustrated: 0,
    rewarded: 0,
    mean_reward: null,
    cached: 0,
    retrieved: 0,
    ttft_p50: null,
    ttft_p95: null,
    total_p50: null,
    total_p95: null,
  });
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

interface ProjectOverviewRow {
  root: string;
  stacks: unknown;
  files: number | null;
  chunks: number | null;
  last_indexed_at: Date | string | null;
  indexed_created_at: Date | string | null;
  questions: number | null;
  last_asked_at: Date | string | null;
  confirmed_at: Date | string | null;
  last_run_at: Date | string | null;
  last_run_status: string | null;
  last_run_promoted: boolean | null;
  last_run_version: number | null;
}

export interface ProjectOverview {
  root: string;
  stacks: DetectedStack[] | null;
  files: number;
  chunks: number;
  lastIndexedAt: Date | null;
  questions: number;
  lastUsedAt: Date | null;
  lastRun: { at: Date; status: string; promoted: boolean | null; version: number | null } | null;
}

const asDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/**
 * Every folder npllm has heard of — confirmed, indexed or asked about — with its latest profile,
 * index totals, questions and latest training run, in one statement.
 */
export async function projectOverview(db: Db): Promise<ProjectOverview[]> {
  const rows = await selectRows<ProjectOverviewRow>(
    db,
    sql`
      with roots as (
        select root from project_profiles
        union select root from projects
        union select project from interactions where project is not null
        union select project from training_runs
      ),
      profiles as (
        select distinct on (root) root, stacks, confirmed_at from project_profiles order by root, version desc
      ),
      asked as (
        select project, count(*)::int as questions, max(created_at) as last_asked_at from interactions where project is not null group by project
      ),
      totals as (
        select p.root, p.last_indexed_at, p.created_at as indexed_created_at,
          (select count(*)::int from project_files f where f.project_id = p.id) as files,
          (select count(*)::int from chunks c where c.project_id = p.id) as chunks
        from projects p
      ),
      runs as (
        select distinct on (project) project, coalesce(finished_at, started_at) as last_run_at, status as last_run_status, promoted as last_run_promoted, version as last_run_version
        from training_runs order by project, started_at desc
      )
      select roots.root, profiles.stacks, profiles.confirmed_at, totals.files, totals.chunks, totals.last_indexed_at, totals.indexed_created_at,
        asked.questions, asked.last_asked_at, runs.last_run_at, runs.last_run_status, runs.last_run_promoted, runs.last_run_version
      from roots
      left join profiles on profiles.root = roots.root
      left join totals on totals.root = roots.root
      left join asked on asked.project = roots.root
      left join runs on runs.project = roots.root`,
  );
  return rows.map((row) => {
    const used = [row.last_asked_at, row.confirmed_at, row.last_indexed_at, row.indexed_created_at].map(asDate).filter((date): date is Date => date !== null);
    const lastRunAt = asDate(row.last_run_at);
    return {
      root: row.root,
      stacks: (typeof row.stacks === 'string' ? JSON.parse(row.stacks) : row.stacks) as DetectedStack[] | null,
      files: row.files ?? 0,
      chunks: row.chunks ?? 0,
      lastIndexedAt: asDate(row.last_indexed_at),
      questions: row.questions ?? 0,
      lastUsedAt: used.length ? new Date(Math.max(...used.map((date) => date.getTime()))) : null,
      lastRun:
        lastRunAt && row.last_run_status
          ? { at: lastRunAt, status: row.last_run_status, promoted: row.last_run_promoted, version: row.last_run_version }
          : null,
    };
  });
}
