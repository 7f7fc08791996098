import type { LearningRunRecord, LearningStats } from '../../../shared/contract.js';
import { learningMatrix } from '../../../shared/learning-metrics.js';
import type { Db } from '../db/client.js';
import type { TrainingRunRow } from '../db/schema.js';
import { adapterVersions, learningAdapterNames, learningEvaluationRows, recentTrainingRuns } from './queries.js';

export const defaultLearningRuns = 10;

/**
 * Every adapter's forgetting matrix, gain, BWT and latest runs (metrics/README.md), for
 * `npllm stats --learning`, the API method `stats/learning` and the dashboard.
 */
export async function learningStats(db: Db, options: { adapter?: string | undefined; runs?: number | undefined } = {}): Promise<LearningStats> {
  const limit = options.runs ?? defaultLearningRuns;
  const [names, versions, evaluations] = await Promise.all([
    learningAdapterNames(db, options.adapter),
    adapterVersions(db, options.adapter),
    learningEvaluationRows(db, options.adapter),
  ]);
  // Code-unit order, not the database's collation: PGlite and a PostgreSQL server may sort differently.
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const adapters = await Promise.all(
    sorted.map(async (name) => {
      const matrix = learningMatrix(
        name,
        versions
          .filter((row) => row.name === name)
          .map((row) => ({
            version: row.version,
            channel: row.channel,
            project: row.project,
            parentVersion: row.parentVersion,
            createdAt: row.createdAt.toISOString(),
          })),
        evaluations
          .filter((row) => row.adapterName === name)
          .map((row) => ({ version: row.version, project: row.project, nll: row.nll, heldOutHash: row.heldOutHash, measuredAt: row.measuredAt.toISOString() })),
      );
      const runs = await recentTrainingRuns(db, name, limit);
      return { ...matrix, runs: runs.map(toLearningRunRecord) };
    }),
  );
  return { adapters };
}

export function toLearningRunRecord(row: TrainingRunRow): LearningRunRecord {
  return {
    id: row.id,
    adapter: row.adapterName,
    project: row.project,
    status: row.status,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    version: row.version,
    promoted: row.promoted,
    reason: row.reason,
    lossCurve: row.lossCurve,
    nllBefore: row.nllBefore,
    nllAfter: row.nllAfter,
    importanceStats: row.importanceStats,
    stats: row.stats,
    error: row.error,
  };
}
