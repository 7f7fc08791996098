import type { BehaviourStats } from '../../../shared/contract.js';
import type { Db } from '../db/client.js';
import { behaviourMetrics, recentRewards } from './queries.js';

/** Behaviour metrics over the last `days` days (metrics/README.md), for `npllm stats` and the dashboard. */
export async function behaviourStats(db: Db, options: { project?: string | undefined; days: number; recent: number }): Promise<BehaviourStats> {
  const since = new Date(Date.now() - options.days * 86_400_000);
  const [grouped, recent] = await Promise.all([
    behaviourMetrics(db, { since, project: options.project }),
    recentRewards(db, { limit: options.recent, project: options.project }),
  ]);
  return { ...grouped, recentRewards: recent };
}
