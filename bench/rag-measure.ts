/** What the retrieval benchmark's parts share: tail latencies and a look at how vectors spread. */
import { sql } from 'drizzle-orm';
import type { Db } from '../electron/engine/db/client.js';
import { selectRows } from '../electron/engine/db/sql.js';
import { chunks } from '../electron/engine/db/schema.js';
import { median, percentile, round } from './measure.js';

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

/** Median cosine distance from a sample of a project's chunks to their nearest and 10th nearest other chunk. */
export async function chunkNeighbourDistances(db: Db, projectId: string): Promise<{ first: number; tenth: number }> {
  const rows = await selectRows<{ rank: number | string; distance: number }>(
    db,
    sql`with sample as (select id, embedding from chunks where project_id = ${projectId} order by md5(id::text) limit 100)
        select n.rank, n.distance from sample s cross join lateral (
          select c.embedding <=> s.embedding as distance, row_number() over (order by c.embedding <=> s.embedding) as rank
          from chunks c where c.project_id = ${projectId} and c.id <> s.id order by c.embedding <=> s.embedding limit 10) n`,
  );
  const at = (rank: number) => round(median(rows.filter((row) => Number(row.rank) === rank).map((row) => Number(row.distance))), 3);
  return { first: at(1), tenth: at(10) };
}

/**
 * Whether the planner walks the HNSW graph for searchByVector's query. Without statistics (the
 * engine never runs ANALYZE, and PGlite has no autovacuum) it may filter by project through a
 * B-tree and sort every row of the project instead: exact, and linear in the project's size.
 */
export async function usesHnsw(db: Db, projectId: string, query: Float32Array): Promise<boolean> {
  const plan = await selectRows<Record<string, string>>(
    db,
    sql`explain select ${chunks.id} from ${chunks} where ${chunks.projectId} = ${projectId} order by ${chunks.embedding} <=> ${`[${Array.from(query).join(',')}]`}::vector limit 10`,
  );
  return plan.some((row) => Object.values(row).some((line) => line.includes('chunks_embedding_hnsw')));
}
