/**
 * The vector store at scale, without the embedder: N chunks with embedding-like 384-d vectors go
 * through the engine's own `replaceFiles` (binary COPY) into a fresh PGlite migrated as the engine
 * migrates it, are searched through `searchByVector`, and are checked against exact search.
 *
 * Uniform random vectors would make every neighbour about equally far and recall meaningless, so
 * the vectors come from a mixture: a few hundred clusters of varied size and spread around
 * centres that share a common direction and one of a few dozen topics (as sentence embeddings
 * share directions), each cluster spread mostly along a 16-dimensional subspace of its own plus
 * a little isotropic noise, then L2-normalised. Queries are fresh draws from the same mixture.
 * The weights make the distances look like MiniLM's on real code (each repository's `distances`
 * in the report): random pairs ≈ 0.64 apart (the repositories: 0.61–0.65); among 4,000 of these
 * vectors a point's nearest neighbour is ≈ 0.13 away and its 10th ≈ 0.27 (the repositories'
 * chunks, 1,000–3,000 of them: 0.15–0.21 and 0.28–0.33).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { openDatabase, type Db } from '../electron/engine/db/client.js';
import { selectRows } from '../electron/engine/db/sql.js';
import { chunks } from '../electron/engine/db/schema.js';
import { hitColumns, projectTotals, replaceFiles, searchByVector, upsertProject, type IndexedFile } from '../electron/engine/rag/queries.js';
import { chunkSearchText } from '../electron/engine/rag/search-text.js';
import { median, otherCpuMeter, progress, round, rssMb, table } from './measure.js';
import { latency, randomPairDistance, usesHnsw, type Latency } from './rag-measure.js';

export interface SyntheticOptions {
  chunks: number;
  queries: number;
  clusters: number;
  /** Where the fresh PGlite lives. */
  dir: string;
  random: () => number;
  /** hnsw.ef_search values tried besides the engine's own. */
  efSearchValues: readonly number[];
  targets: { p95Ms: number; recallAt10: number };
}

export interface EfSearchPoint extends Latency {
  efSearch: number;
  recallAt10: number;
}

/** searchByVector (limit 10) as the engine leaves the store; `analyzed` once ANALYZE gave the planner statistics. */
export interface SyntheticResult extends Latency {
  chunks: number;
  loadRowsPerSecond: number;
  indexBuildSeconds: number;
  recallAt10: number;
  /** What searchByVector sets for limit 10. */
  efSearch: number;
  planUsesHnsw: boolean;
  queriesAsIs: number;
  analyzed: Latency & { analyzeSeconds: number; planUsesHnsw: boolean; recallAt10: number; queries: number };
  /** After ANALYZE, with the engine's query and other ef_search values. */
  efSweep: EfSearchPoint[];
  /** The smallest ef_search tried that meets both targets after ANALYZE, null if none did. */
  efSearchMeetingTargets: number | null;
  insertWithIndexRowsPerSecond: number;
  maintenanceWorkMem: string;
  dimensions: number;
  clusters: number;
  /** Queries whose exact top 10 from a sequential scan in PostgreSQL equals the brute force in JS. */
  exactCheck: string;
  /** Median cosine distance from a query to its 1st and 10th exact neighbour, and between random chunks. */
  distances: { queryFirst: number; queryTenth: number; randomPair: number };
  /** What Retriever.prepare pays on every question to learn whether the project has chunks. */
  projectTotalsMs: number;
  generateSeconds: number;
  groundTruthSeconds: number;
  dataDirMb: number;
  rssMb: number;
  pgvector: string;
  otherCpuCores: { load: number; build: number; queriesAsIs: number; queries: number };
}

const dimensions = 384;
const chunksPerFile = 20;
const filesPerTransaction = 100;
/** Re-indexing changed files replaces their chunks while the HNSW index exists: that cost, on this many chunks. */
const replacedWithIndex = 1000;
const maintenanceWorkMem = '1GB';
const projectId = 'synthetic';
const limit = 10;

export async function benchSynthetic(options: SyntheticOptions): Promise<SyntheticResult> {
  const n = options.chunks;
  let started = performance.now();
  const mixture = gaussianMixture(options.random, options.clusters);
  const data = new Float32Array(n * dimensions);
  for (let i = 0; i < n; i++) mixture.sample(data, i * dimensions);
  const queries = Array.from({ length: options.queries }, () => {
    const query = new Float32Array(dimensions);
    mixture.sample(query, 0);
    return query;
  });
  const generateSeconds = (performance.now() - started) / 1000;
  progress(
    `synthetic: ${n} vectors of ${dimensions} dimensions in ${options.clusters} clusters, ${options.queries} queries, generated in ${round(generateSeconds)} s`,
  );

  started = performance.now();
  const exact = queries.map((query) => exactNeighbours(data, query, limit));
  const groundTruthSeconds = (performance.now() - started) / 1000;
  progress(`synthetic: exact top ${limit} by brute force in ${round(groundTruthSeconds)} s`);

  const database = await openDatabase({ url: null, dir: options.dir });
  try {
    const db = database.db;
    await upsertProject(db, { id: projectId, root: '/synthetic', embedderId: 'synthetic-384' });
    const [hnsw] = await selectRows<{ indexdef: string }>(db, sql`select indexdef from pg_indexes where indexname = 'chunks_embedding_hnsw'`);
    if (!hnsw) throw new Error('The migrations no longer create chunks_embedding_hnsw: update bench/rag-synthetic.ts.');
    const [extension] = await selectRows<{ version: string }>(db, sql`select extversion as version from pg_extension where extname = 'vector'`);
    const pgvector = extension?.version ?? 'unknown';

    // Loading with the graph present would time HNSW inserts one by one, not the bulk load; the
    // index is recreated from the migration's own definition right after.
    await database.rawTransaction((raw) => raw.query('drop index chunks_embedding_hnsw'));
    let cpu = otherCpuMeter();
    started = performance.now();
    const files = Math.ceil(n / chunksPerFile);
    for (let first = 0; first < files; first += filesPerTransaction) {
      await replaceFiles(database, projectId, syntheticFiles(data, n, first, Math.min(files, first + filesPerTransaction)));
      if ((first / filesPerTransaction) % 10 === 9) progress(`synthetic: loaded ${Math.min(n, (first + filesPerTransaction) * chunksPerFile)} rows`);
    }
    const loadSeconds = (performance.now() - started) / 1000;
    const loadCpu = cpu();
    progress(`synthetic: ${n} rows through replaceFiles in ${round(loadSeconds)} s (${Math.round(n / loadSeconds)} rows/s)`);

    cpu = otherCpuMeter();
    started = performance.now();
    await database.rawTransaction(async (raw) => {
      await raw.query(`set local maintenance_work_mem = '${maintenanceWorkMem}'`);
      await raw.query(hnsw.indexdef);
    });
    const indexBuildSeconds = (performance.now() - started) / 1000;
    const buildCpu = cpu();
    progress(`synthetic: HNSW index built in ${round(indexBuildSeconds)} s (maintenance_work_mem ${maintenanceWorkMem}): ${hnsw.indexdef}`);

    started = performance.now();
    await replaceFiles(database, projectId, syntheticFiles(data, n, 0, replacedWithIndex / chunksPerFile));
    const insertWithIndexRowsPerSecond = Math.round(replacedWithIndex / ((performance.now() - started) / 1000));
    progress(`synthetic: replacing ${replacedWithIndex} chunks with the index present: ${insertWithIndexRowsPerSecond} rows/s`);

    // As the engine leaves the store: it never runs ANALYZE and PGlite has no autovacuum to do it,
    // so the planner guesses the project filter's selectivity. A scan of the whole project costs
    // about the same for every query: 30 of them measure it.
    const asIsPlanUsesHnsw = await usesHnsw(db, projectId, queries[0]!);
    const asIsQueries = queries.slice(0, Math.min(queries.length, 30));
    for (const query of asIsQueries.slice(0, 3)) await searchByVector(db, projectId, query, limit);
    cpu = otherCpuMeter();
    const asIs = await measureSearches(db, asIsQueries, exact, data);
    const asIsCpu = cpu();
    progress(
      `synthetic, no ANALYZE (the engine's store): plan uses HNSW: ${asIsPlanUsesHnsw}; searchByVector p50 ${asIs.p50Ms} ms, p95 ${asIs.p95Ms} ms, recall@10 ${asIs.recallAt10} over ${asIsQueries.length} queries`,
    );

    started = performance.now();
    await database.rawTransaction((raw) => raw.query('analyze chunks'));
    const analyzeSeconds = (performance.now() - started) / 1000;
    const planUsesHnsw = await usesHnsw(db, projectId, queries[0]!);
    for (const query of queries.slice(0, 20)) await searchByVector(db, projectId, query, limit);
    cpu = otherCpuMeter();
    const analyzed = await measureSearches(db, queries, exact, data);
    const queryCpu = cpu();
    progress(
      `synthetic, after ANALYZE chunks (${round(analyzeSeconds, 2)} s): plan uses HNSW: ${planUsesHnsw}; searchByVector p50 ${analyzed.p50Ms} ms, p95 ${analyzed.p95Ms} ms, recall@10 ${analyzed.recallAt10}`,
    );

    const efSearch = Math.max(64, limit * 2);
    const efSweep: EfSearchPoint[] = [];
    for (const value of [...new Set([efSearch, ...options.efSearchValues])].sort((a, b) => a - b)) {
      const times: number[] = [];
      const recalls: number[] = [];
      for (const query of queries.slice(0, 10)) await searchWithEfSearch(db, query, value);
      for (const [index, query] of queries.entries()) {
        const begin = performance.now();
        const found = await searchWithEfSearch(db, query, value);
        times.push(performance.now() - begin);
        recalls.push(recall(found, exact[index]!));
      }
      efSweep.push({ efSearch: value, recallAt10: round(mean(recalls), 4), ...latency(times) });
      progress(`synthetic: ef_search ${value}: recall@10 ${efSweep[efSweep.length - 1]!.recallAt10}, p95 ${efSweep[efSweep.length - 1]!.p95Ms} ms`);
    }
    const meeting = efSweep.find((point) => point.recallAt10 >= options.targets.recallAt10 && point.p95Ms <= options.targets.p95Ms);

    const checked = queries.slice(0, 3);
    let identical = 0;
    for (const [index, query] of checked.entries()) if (sameSet(await sequentialScan(db, query), exact[index]!)) identical++;

    const totalsTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const begin = performance.now();
      await projectTotals(db, projectId);
      totalsTimes.push(performance.now() - begin);
    }

    const result: SyntheticResult = {
      chunks: n,
      loadRowsPerSecond: Math.round(n / loadSeconds),
      indexBuildSeconds: round(indexBuildSeconds),
      p50Ms: asIs.p50Ms,
      p95Ms: asIs.p95Ms,
      recallAt10: asIs.recallAt10,
      efSearch,
      planUsesHnsw: asIsPlanUsesHnsw,
      queriesAsIs: asIsQueries.length,
      analyzed: {
        analyzeSeconds: round(analyzeSeconds, 2),
        planUsesHnsw,
        p50Ms: analyzed.p50Ms,
        p95Ms: analyzed.p95Ms,
        recallAt10: analyzed.recallAt10,
        queries: queries.length,
      },
      efSweep,
      efSearchMeetingTargets: meeting?.efSearch ?? null,
      insertWithIndexRowsPerSecond,
      maintenanceWorkMem,
      dimensions,
      clusters: options.clusters,
      exactCheck: `${identical}/${checked.length}`,
      distances: { queryFirst: analyzed.distances.first, queryTenth: analyzed.distances.tenth, randomPair: await randomPairDistance(db, projectId) },
      projectTotalsMs: round(median(totalsTimes), 2),
      generateSeconds: round(generateSeconds),
      groundTruthSeconds: round(groundTruthSeconds),
      dataDirMb: round(folderBytes(options.dir) / 1024 / 1024),
      rssMb: rssMb(),
      pgvector,
      otherCpuCores: { load: loadCpu, build: buildCpu, queriesAsIs: asIsCpu, queries: queryCpu },
    };
    process.stderr.write(
      `\nSynthetic store: ${n} chunks, ${options.queries} queries, limit ${limit}\n\n${table(
        ['ef_search', 'recall@10', 'p50 ms', 'p95 ms'],
        efSweep.map((point) => [`${point.efSearch}${point.efSearch === efSearch ? ' (engine)' : ''}`, point.recallAt10, point.p50Ms, point.p95Ms]),
      )}\n\n`,
    );
    return result;
  } finally {
    await database.close();
  }
}

interface Mixture {
  /** Writes one L2-normalised draw at `offset`. */
  sample(into: Float32Array, offset: number): void;
}

function gaussianMixture(random: () => number, clusters: number): Mixture {
  const gaussian = normalSampler(random);
  const subspace = 16;
  const direction = () => normalise(Float64Array.from({ length: dimensions }, () => gaussian()));
  const shared = direction();
  const topics = Array.from({ length: 24 }, direction);
  const harmonic = Array.from({ length: subspace }, (_, j) => 1 / (j + 1)).reduce((sum, value) => sum + value, 0);
  const parts = Array.from({ length: clusters }, () => {
    const topic = topics[Math.floor(random() * topics.length)]!;
    const own = direction();
    const centre = normalise(Float64Array.from({ length: dimensions }, (_, j) => 1.2 * shared[j]! + 0.7 * topic[j]! + own[j]!));
    // Log-uniform spread: tight clusters (near-duplicates) as well as loose ones.
    const spread = Math.exp(Math.log(0.35) + random() * Math.log(1 / 0.35));
    const basis = Float64Array.from({ length: subspace * dimensions }, () => gaussian() / Math.sqrt(dimensions));
    const scales = Array.from({ length: subspace }, (_, j) => spread * Math.sqrt(1 / (j + 1) / harmonic));
    return { centre, basis, scales, noise: (0.3 * spread) / Math.sqrt(dimensions), weight: Math.exp(gaussian()) };
  });
  const cumulative: number[] = [];
  let total = 0;
  for (const part of parts) cumulative.push((total += part.weight));
  const point = new Float64Array(dimensions);
  return {
    sample(into, offset) {
      const target = random() * total;
      let low = 0;
      let high = parts.length - 1;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (cumulative[middle]! < target) low = middle + 1;
        else high = middle;
      }
      const part = parts[low]!;
      for (let j = 0; j < dimensions; j++) point[j] = part.centre[j]! + part.noise * gaussian();
      for (let axis = 0; axis < subspace; axis++) {
        const step = part.scales[axis]! * gaussian();
        const base = axis * dimensions;
        for (let j = 0; j < dimensions; j++) point[j]! += step * part.basis[base + j]!;
      }
      normalise(point);
      for (let j = 0; j < dimensions; j++) into[offset + j] = point[j]!;
    },
  };
}

function normalSampler(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

function normalise(vector: Float64Array): Float64Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  for (let j = 0; j < vector.length; j++) vector[j]! /= norm;
  return vector;
}

function dot(data: Float32Array, row: number, query: Float32Array): number {
  let sum = 0;
  const base = row * dimensions;
  for (let j = 0; j < dimensions; j++) sum += data[base + j]! * query[j]!;
  return sum;
}

/** Rows with the largest dot product (= smallest cosine distance, all vectors being unit), best first. */
function exactNeighbours(data: Float32Array, query: Float32Array, k: number): number[] {
  const rows: number[] = [];
  const scores: number[] = [];
  const count = data.length / dimensions;
  for (let row = 0; row < count; row++) {
    const score = dot(data, row, query);
    if (rows.length === k && score <= scores[k - 1]!) continue;
    let at = Math.min(rows.length, k - 1);
    while (at > 0 && scores[at - 1]! < score) at--;
    rows.splice(at, 0, row);
    scores.splice(at, 0, score);
    if (rows.length > k) {
      rows.pop();
      scores.pop();
    }
  }
  return rows;
}

/** Files of synthetic code whose chunks carry the vectors; a chunk's startLine − 1 is its row in `data`. */
function syntheticFiles(data: Float32Array, n: number, firstFile: number, endFile: number): IndexedFile[] {
  const files: IndexedFile[] = [];
  for (let file = firstFile; file < endFile; file++) {
    const relativePath = `src/module${file}.ts`;
    const fileChunks = [];
    for (let row = file * chunksPerFile; row < Math.min(n, (file + 1) * chunksPerFile); row++) {
      const symbol = `handle${row}`;
      // About the size of a real chunk (the repositories' chunks average 500–1,100 characters).
      const content = [
        `export function ${symbol}(input: Input${row % 97}, options: Options = {}): Result${row % 13} {`,
        `  const items = input.items.filter((item) => item.kind === ${row % 7} && !item.hidden);`,
        `  const total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);`,
        `  if (options.verbose) log(\`${symbol}: \${items.length} items, total \${total}\`);`,
        `  const rounded = Math.round(total * ${row % 100}) / 100;`,
        `  return { id: input.id, total: rounded, count: items.length, source: '${relativePath}' };`,
        '}',
      ].join('\n');
      const chunk = {
        relativePath,
        language: 'typescript',
        symbol,
        kind: 'function' as const,
        startLine: row + 1,
        endLine: row + 1,
        content,
        contentHash: `synthetic-${row}`,
      };
      fileChunks.push({ ...chunk, searchText: chunkSearchText(chunk), embedding: data.subarray(row * dimensions, (row + 1) * dimensions) });
    }
    files.push({ relativePath, size: 0, mtimeMs: 0, contentHash: `synthetic-file-${file}`, language: 'typescript', chunks: fileChunks });
  }
  return files;
}

/** searchByVector's query (same columns, filter, order, iterative scan) with another ef_search, which it does not take. */
async function searchWithEfSearch(db: Db, query: Float32Array, efSearch: number): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local hnsw.ef_search = ${sql.raw(String(efSearch))}`);
    await tx.execute(sql`set local hnsw.iterative_scan = relaxed_order`);
    const distance = sql<number>`${chunks.embedding} <=> ${vectorLiteral(query)}::vector`;
    const rows = await tx
      .select({ ...hitColumns, distance })
      .from(chunks)
      .where(eq(chunks.projectId, projectId))
      .orderBy(distance)
      .limit(limit);
    return rows.map((row) => row.startLine - 1);
  });
}

interface SearchQuality extends Latency {
  recallAt10: number;
  /** Medians of the cosine distance from a query to its 1st and 10th exact neighbour. */
  distances: { first: number; tenth: number };
}

async function measureSearches(db: Db, queries: readonly Float32Array[], exact: readonly number[][], data: Float32Array): Promise<SearchQuality> {
  const times: number[] = [];
  const recalls: number[] = [];
  const first: number[] = [];
  const tenth: number[] = [];
  for (const [index, query] of queries.entries()) {
    const begin = performance.now();
    const hits = await searchByVector(db, projectId, query, limit);
    times.push(performance.now() - begin);
    recalls.push(
      recall(
        hits.map((hit) => hit.startLine - 1),
        exact[index]!,
      ),
    );
    first.push(1 - dot(data, exact[index]![0]!, query));
    tenth.push(1 - dot(data, exact[index]![limit - 1]!, query));
  }
  return { ...latency(times), recallAt10: round(mean(recalls), 4), distances: { first: round(median(first), 3), tenth: round(median(tenth), 3) } };
}

/** Exact search inside PostgreSQL: without index scans the planner reads every row and sorts. */
async function sequentialScan(db: Db, query: Float32Array): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_indexscan = off`);
    const rows = await tx
      .select({ startLine: chunks.startLine })
      .from(chunks)
      .where(eq(chunks.projectId, projectId))
      .orderBy(sql`${chunks.embedding} <=> ${vectorLiteral(query)}::vector`)
      .limit(limit);
    return rows.map((row) => row.startLine - 1);
  });
}

function vectorLiteral(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}

function recall(found: readonly number[], exact: readonly number[]): number {
  const wanted = new Set(exact);
  return found.filter((row) => wanted.has(row)).length / exact.length;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && recall(a, b) === 1;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(join(entry.parentPath, entry.name)).size, 0);
}
