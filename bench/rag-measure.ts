/** What the retrieval benchmark's parts share: tail latencies and a look at how vectors spread. */
import { sql } from 'drizzle-orm';
import type { Db } from '../electron/engine/db/client.js';
import { selectRows } from '../electron/engine/db/queries.js';
import { median, round } from './measure.js';

/** Nearest rank: the smallest sample with at least `fraction` of the samples at or below it. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

export interface Latency {
  p50Ms: number;
  p95Ms: number;
}

export function latency(times: readonly number[]): Latency {
  return { p50Ms: round(median(times), 2), p95Ms: round(percentile(times, 0.95), 2) };
}

/**
 * Median cosine distance between random chunks of a project: synthetic vectors should spread like
 * the real ones (uniform random vectors sit at ≈1.0, where every neighbour is equally far).
 */
export async function randomPairDistance(db: Db, projectId: string): Promise<number> {
  const [row] = await selectRows<{ distance: number }>(
    db,
    sql`with sample as (select id, embedding from chunks where project_id = ${projectId} order by md5(id::text) limit 200)
        select percentile_cont(0.5) within group (order by a.embedding <=> b.embedding) as distance
        from sample a cross join sample b where a.id < b.id`,
  );
  return round(Number(row?.distance ?? Number.NaN), 3);
}
