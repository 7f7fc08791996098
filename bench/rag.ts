/**
 * Retrieval on real code, and the vector store at scale.
 *
 * Real code: each repository is copied, the docstrings of a seeded sample of its documented
 * functions are removed from the copy (bench/rag-queries.ts), the copy is indexed end to end by
 * the engine (`engine.rag.index`: walk, parse, embed, store), and each docstring's opening asks
 * for its function: vector search alone, full-text search alone, and both fused by reciprocal
 * rank as the retriever fuses them. A hit is a chunk of the target's file whose lines overlap it.
 * Synthetic: bench/rag-synthetic.ts. The last stdout line is the JSON summary.
 *
 *   node dist/bench/rag.js [--repo PATH[,PATH…]]… [--queries 300] [--seed 1] [--synthetic 100000]
 *                          [--synthetic-queries 300] [--embed-threads N] [--synthetic-only]
 *
 * A --repo of several comma-separated folders is one repository made of them. Without --repo:
 * the Python standard library's json, email and http packages, zod's v4 core (TypeScript) and
 * ESLint's lib (JavaScript), all already on this machine. --synthetic 0 leaves the store out,
 * --synthetic-only the repositories.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Progress } from '../shared/contract.js';
import { seededRandom } from '../shared/random.js';
import type { Db } from '../electron/engine/db/client.js';
import { selectRows } from '../electron/engine/db/sql.js';
import { Engine } from '../electron/engine/engine.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import { searchByText, searchByVector, type ChunkHit } from '../electron/engine/rag/queries.js';
import { fuseHits } from '../electron/engine/rag/retriever.js';
import { queryTerms } from '../electron/engine/rag/search-text.js';
import { tempHome, testConfig } from '../electron/engine/test/support.js';
import { loadAverage, median, otherCpuMeter, positiveIntFlag, progress, round, rssMb, table } from './measure.js';
import { chunkNeighbourDistances, latency, randomPairDistance, usesHnsw } from './rag-measure.js';
import { buildRetrievalSet, type RetrievalQuery, type Target } from './rag-queries.js';
import { benchSynthetic, type SyntheticResult } from './rag-synthetic.js';

const targets = { chunksPerSecond: 200, syntheticP95Ms: 10, syntheticRecallAt10: 0.98 };
const topK = 10;
const minWords = 8;

const { values: flags } = parseArgs({
  options: {
    repo: { type: 'string', multiple: true },
    queries: { type: 'string' },
    seed: { type: 'string' },
    synthetic: { type: 'string' },
    'synthetic-queries': { type: 'string' },
    'embed-threads': { type: 'string' },
    'synthetic-only': { type: 'boolean' },
  },
});
const maxQueries = positiveIntFlag('queries', flags.queries, 300);
const seed = positiveIntFlag('seed', flags.seed, 1);
const syntheticChunks = flags.synthetic === '0' ? 0 : positiveIntFlag('synthetic', flags.synthetic, 100_000);
const syntheticQueries = positiveIntFlag('synthetic-queries', flags['synthetic-queries'], 300);
const embedThreads = flags['embed-threads'] === undefined ? undefined : positiveIntFlag('embed-threads', flags['embed-threads'], 1);

interface RepoSpec {
  name: string;
  paths: string[];
}

type ByMethod = Record<'vector' | 'text' | 'hybrid', number>;

interface RepoResult {
  name: string;
  queries: number;
  recallAt10: ByMethod;
  mrr: ByMethod;
  /** Hybrid retrieval, embedding the question included. */
  p50Ms: number;
  p95Ms: number;
  /** Hybrid retrieval once the question is embedded: both searches and the fusion. */
  searchOnlyP50Ms: number;
  searchOnlyP95Ms: number;
  chunksPerSecond: number;
  embedQueryP50Ms: number;
  vectorSearchP50Ms: number;
  textSearchP50Ms: number;
  /** Retriever.prepare as the engine runs it per question: gate, both searches, fusion, prompt. */
  retrieverPrepareP50Ms: number;
  retrieverPrepareP95Ms: number;
  /** Share of these questions the gate let retrieve. */
  gateRetrieved: number;
  documentedFunctions: number;
  files: number;
  chunks: number;
  indexSeconds: number;
  /** Event-loop delay while indexing (p99 and max): how long a streamed token could be held up. */
  eventLoopDelayMs: { p99: number; max: number };
  /** Embedding alone, on a sample of the indexed chunks in the indexer's batches: the ceiling of chunksPerSecond. */
  embedOnlyChunksPerSecond: number;
  /** Whether searchByVector walked the HNSW graph or scanned the project (see usesHnsw). */
  vectorPlanUsesHnsw: boolean;
  /** Median cosine distances: question to its 1st and 10th vector hit, chunk to its 1st and 10th nearest chunk, random chunk pairs. */
  distances: { questionFirst: number; questionTenth: number; chunkFirst: number; chunkTenth: number; randomPair: number };
  otherCpuCores: { index: number; queries: number };
}

async function main(): Promise<void> {
  const repos = flags['synthetic-only'] ? [] : flags.repo?.length ? flags.repo.map(repoFromFlag) : defaultRepos();
  const home = tempHome('npllm-bench-rag-');
  try {
    const config = testConfig(home.home, embedThreads === undefined ? {} : { rag: { embedder: { threads: embedThreads } } });
    progress(
      `load average ${loadAverage()}; embedder threads ${config.rag.embedder.threads}, batch ${config.rag.embedder.batchSize}; index batches of ${config.rag.batchChunks} chunks; ${config.rag.candidates} candidates per search before fusion`,
    );
    const overallCpu = otherCpuMeter();
    const engine = await Engine.open(config);
    const results: RepoResult[] = [];
    let warmupSeconds: number | null = null;
    let rssEngineMb: number;
    try {
      if (repos.length) {
        warmupSeconds = await warmUp(engine, join(home.home, 'warmup'));
        progress(`warm-up (embedding model and parsers loaded, one tiny project indexed): ${round(warmupSeconds)} s`);
      }
      for (const [index, repo] of repos.entries()) results.push(await benchRepo(engine, repo, join(home.home, 'corpus', `repo${index}`), config.rag));
      // The engine with its PGlite, the embedding model and the parsers loaded, as a user's process holds them.
      rssEngineMb = rssMb();
    } finally {
      await engine.dispose();
    }

    let synthetic: SyntheticResult | null = null;
    if (syntheticChunks > 0) {
      synthetic = await benchSynthetic({
        chunks: syntheticChunks,
        queries: syntheticQueries,
        clusters: 300,
        dir: join(home.home, 'synthetic-db'),
        random: seededRandom(seed + 1),
        efSearchValues: [40, 100, 200, 400],
        targets: { p95Ms: targets.syntheticP95Ms, recallAt10: targets.syntheticRecallAt10 },
      });
    }

    const average = (pick: (repo: RepoResult) => number, digits: number) =>
      results.length ? round(results.reduce((sum, repo) => sum + pick(repo), 0) / results.length, digits) : null;
    const totalChunks = results.reduce((sum, repo) => sum + repo.chunks, 0);
    const totalSeconds = results.reduce((sum, repo) => sum + repo.indexSeconds, 0);
    const chunksPerSecond = results.length ? round(totalChunks / totalSeconds) : null;
    const storeMeets = (store: { p95Ms: number; recallAt10: number }) =>
      store.p95Ms <= targets.syntheticP95Ms && store.recallAt10 >= targets.syntheticRecallAt10;
    const summary = {
      recallAt10: average((repo) => repo.recallAt10.hybrid, 4),
      mrr: average((repo) => repo.mrr.hybrid, 4),
      p50Ms: average((repo) => repo.p50Ms, 2),
      p95Ms: average((repo) => repo.p95Ms, 2),
      chunksPerSecond,
      rssMb: round(process.resourceUsage().maxRSS / 1024),
      repos: results,
      synthetic,
      targetsMet: {
        hybridBeatsVectorMrr: results.length ? results.every((repo) => repo.mrr.hybrid > repo.mrr.vector) : null,
        chunksPerSecond: chunksPerSecond === null ? null : chunksPerSecond >= targets.chunksPerSecond,
        syntheticP95AndRecall: synthetic ? storeMeets(synthetic) : null,
        syntheticP95AndRecallAfterAnalyze: synthetic ? storeMeets(synthetic.analyzed) : null,
      },
      rssEngineMb,
      warmupSeconds: warmupSeconds === null ? null : round(warmupSeconds),
      embedderThreads: config.rag.embedder.threads,
      embedderBatchSize: config.rag.embedder.batchSize,
      candidates: config.rag.candidates,
      seed,
      otherCpuCores: overallCpu(),
      loadAverage: loadAverage(),
    };
    console.log(JSON.stringify(summary));
  } finally {
    home.cleanup();
  }
}

/** The embedding model and the grammars load once per process; a real index pays that once, not per project. */
async function warmUp(engine: Engine, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.py'), 'def greet(name):\n    """Say hello."""\n    return f"hello {name}"\n');
  writeFileSync(join(dir, 'app.ts'), '/** Say hello. */\nexport function greet(name: string): string {\n  return `hello ${name}`;\n}\n');
  const started = performance.now();
  await engine.rag.index(dir);
  return (performance.now() - started) / 1000;
}

async function benchRepo(engine: Engine, repo: RepoSpec, copyDir: string, rag: Engine['config']['rag']): Promise<RepoResult> {
  const set = await buildRetrievalSet(repo.paths, copyDir, { maxQueries, minWords, random: seededRandom(seed) });
  if (set.queries.length === 0) throw new Error(`${repo.name} has no function with a docstring or JSDoc of ${minWords} words or more: pick another --repo.`);
  progress(
    `${repo.name}: ${set.sourceFiles} source files, ${set.candidates} documented functions (distinct openings), ${set.queries.length} sampled; docstrings removed in ${set.strippedFiles} files of the copy`,
  );

  let cpu = otherCpuMeter();
  let lastReport = 0;
  // How long the engine's event loop was held while indexing: what a streamed answer would wait.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  const indexed = await engine.rag.index(set.root, {
    onProgress: (update: Progress) => {
      if (performance.now() - lastReport < 10_000) return;
      lastReport = performance.now();
      progress(`${repo.name}: ${update.label}`);
    },
  });
  const indexSeconds = (performance.now() - started) / 1000;
  loopDelay.disable();
  const eventLoopDelayMs = { p99: round(loopDelay.percentile(99) / 1e6, 1), max: round(loopDelay.max / 1e6, 1) };
  const indexCpu = cpu();
  const chunksPerSecond = round(indexed.embeddedChunks / indexSeconds);
  progress(
    `${repo.name}: indexed ${indexed.files} files, ${indexed.embeddedChunks} chunks in ${round(indexSeconds)} s: ${chunksPerSecond} chunks/s (other processes ${indexCpu} cores)`,
  );

  const db = engine.database.db;
  const embedder = await engine.rag.embedder();
  const embedOnlyChunksPerSecond = await embeddingRate(engine, indexed.projectId, rag.batchChunks);

  const ask = async (query: RetrievalQuery) => {
    const begin = performance.now();
    const [vector] = await embedder.embed([query.text]);
    const embedded = performance.now();
    const [byVector, byText] = await Promise.all([
      searchByVector(db, indexed.projectId, vector!, rag.candidates),
      searchByText(db, indexed.projectId, queryTerms(query.text), rag.candidates),
    ]);
    const hybrid = fuseHits(byVector, byText, topK);
    const fused = performance.now();
    const vectorOnly = await searchByVector(db, indexed.projectId, vector!, topK);
    const vectorDone = performance.now();
    const textOnly = await searchByText(db, indexed.projectId, queryTerms(query.text), topK);
    const textDone = performance.now();
    const prepared = await engine.rag.retriever.prepare({
      question: query.text,
      history: [],
      root: indexed.root,
      tokens: () => engine.model.tokenCounter(),
      budget: () => rag.contextTokens,
    });
    const preparedDone = performance.now();
    return {
      ranks: { vector: rankOf(vectorOnly, query.targets), text: rankOf(textOnly, query.targets), hybrid: rankOf(hybrid, query.targets) },
      hybridMs: fused - begin,
      searchOnlyMs: fused - embedded,
      embedMs: embedded - begin,
      vectorMs: vectorDone - fused,
      textMs: textDone - vectorDone,
      prepareMs: preparedDone - textDone,
      gateRetrieved: prepared.report.used,
      distances: [vectorOnly[0]?.distance, vectorOnly[topK - 1]?.distance],
    };
  };

  // Compiles the paths and warms PGlite's caches, as any long-running engine has.
  for (const query of set.queries.slice(0, 5)) await ask(query);
  cpu = otherCpuMeter();
  const runs: Awaited<ReturnType<typeof ask>>[] = [];
  for (const query of set.queries) runs.push(await ask(query));
  const queryCpu = cpu();

  const score = (method: keyof ByMethod) => {
    const ranks = runs.map((run) => run.ranks[method]);
    return {
      recall: round(ranks.filter((rank) => rank >= 0).length / ranks.length, 4),
      mrr: round(ranks.reduce((sum, rank) => sum + (rank >= 0 ? 1 / (rank + 1) : 0), 0) / ranks.length, 4),
    };
  };
  const scores = { vector: score('vector'), text: score('text'), hybrid: score('hybrid') };
  const hybridLatency = latency(runs.map((run) => run.hybridMs));
  const searchOnly = latency(runs.map((run) => run.searchOnlyMs));
  const prepare = latency(runs.map((run) => run.prepareMs));
  const distance = (index: 0 | 1) => round(median(runs.flatMap((run) => (run.distances[index] === undefined ? [] : [run.distances[index]]))), 3);

  const result: RepoResult = {
    name: repo.name,
    queries: set.queries.length,
    recallAt10: { vector: scores.vector.recall, text: scores.text.recall, hybrid: scores.hybrid.recall },
    mrr: { vector: scores.vector.mrr, text: scores.text.mrr, hybrid: scores.hybrid.mrr },
    ...hybridLatency,
    searchOnlyP50Ms: searchOnly.p50Ms,
    searchOnlyP95Ms: searchOnly.p95Ms,
    chunksPerSecond,
    embedQueryP50Ms: round(median(runs.map((run) => run.embedMs)), 2),
    vectorSearchP50Ms: round(median(runs.map((run) => run.vectorMs)), 2),
    textSearchP50Ms: round(median(runs.map((run) => run.textMs)), 2),
    retrieverPrepareP50Ms: prepare.p50Ms,
    retrieverPrepareP95Ms: prepare.p95Ms,
    gateRetrieved: round(runs.filter((run) => run.gateRetrieved).length / runs.length, 3),
    documentedFunctions: set.candidates,
    files: indexed.files,
    chunks: indexed.embeddedChunks,
    indexSeconds: round(indexSeconds, 2),
    eventLoopDelayMs,
    embedOnlyChunksPerSecond,
    vectorPlanUsesHnsw: await usesHnsw(db, indexed.projectId, (await embedder.embed([set.queries[0]!.text]))[0]!),
    distances: await distancesOf(db, indexed.projectId, distance(0), distance(1)),
    otherCpuCores: { index: indexCpu, queries: queryCpu },
  };
  process.stderr.write(
    `\n${repo.name}: ${result.queries} queries over ${result.chunks} chunks\n\n${table(
      ['method', 'recall@10', 'MRR@10', 'p50 ms'],
      [
        ['vector (searchByVector)', result.recallAt10.vector, result.mrr.vector, result.vectorSearchP50Ms],
        ['text (searchByText)', result.recallAt10.text, result.mrr.text, result.textSearchP50Ms],
        ['hybrid (RRF, embedding included)', result.recallAt10.hybrid, result.mrr.hybrid, result.p50Ms],
      ],
    )}\n\nhybrid p95 ${result.p95Ms} ms; without embedding the question p50 ${result.searchOnlyP50Ms} / p95 ${result.searchOnlyP95Ms} ms; ` +
      `Retriever.prepare p50 ${result.retrieverPrepareP50Ms} / p95 ${result.retrieverPrepareP95Ms} ms (gate retrieved for ${round(result.gateRetrieved * 100)}%)\n` +
      `indexing ${result.chunksPerSecond} chunks/s end to end; embedding alone ${result.embedOnlyChunksPerSecond} chunks/s; event loop held up to ${result.eventLoopDelayMs.max} ms (p99 ${result.eventLoopDelayMs.p99} ms)\n\n`,
  );
  return result;
}

async function distancesOf(db: Db, projectId: string, questionFirst: number, questionTenth: number): Promise<RepoResult['distances']> {
  const chunk = await chunkNeighbourDistances(db, projectId);
  return { questionFirst, questionTenth, chunkFirst: chunk.first, chunkTenth: chunk.tenth, randomPair: await randomPairDistance(db, projectId) };
}

/** First hit that overlaps a target's lines in its file; −1 when none of the top 10 does. */
function rankOf(hits: readonly Pick<ChunkHit, 'relativePath' | 'startLine' | 'endLine'>[], wanted: readonly Target[]): number {
  return hits
    .slice(0, topK)
    .findIndex((hit) =>
      wanted.some((target) => target.relativePath === hit.relativePath && hit.startLine <= target.endLine && hit.endLine >= target.startLine),
    );
}

/** Embeds a sample of the project's chunks again, as the indexer builds their texts and batches them. */
async function embeddingRate(engine: Engine, projectId: string, batchChunks: number): Promise<number> {
  const rows = await selectRows<{ relative_path: string; symbol: string | null; content: string }>(
    engine.database.db,
    sql`select relative_path, symbol, content from chunks where project_id = ${projectId} order by md5(id::text) limit 256`,
  );
  const texts = rows.map((row) => `${row.relative_path}${row.symbol ? ` ${row.symbol}` : ''}\n${row.content}`);
  const embedder = await engine.rag.embedder();
  const started = performance.now();
  for (let start = 0; start < texts.length; start += batchChunks) await embedder.embed(texts.slice(start, start + batchChunks));
  return round(texts.length / ((performance.now() - started) / 1000));
}

function repoFromFlag(value: string): RepoSpec {
  const paths = value.split(',').map((path) => resolve(path));
  for (const path of paths) {
    let isFolder = false;
    try {
      isFolder = statSync(path).isDirectory();
    } catch {
      // Reported below with the fix.
    }
    if (!isFolder) throw new Error(`--repo ${path} is not a folder: pass a repository's folder (or several, comma-separated).`);
  }
  return { name: paths.map(displayName).join('+'), paths };
}

function displayName(path: string): string {
  const marker = `${sep}node_modules${sep}`;
  const at = path.lastIndexOf(marker);
  return at === -1 ? basename(path) : path.slice(at + marker.length);
}

function defaultRepos(): RepoSpec[] {
  let stdlib: string;
  try {
    stdlib = execFileSync('python3', ['-c', 'import json, os; print(os.path.dirname(os.path.dirname(json.__file__)))'], { encoding: 'utf8' }).trim();
  } catch (cause) {
    throw new Error('python3 finds the standard library the default repositories come from: install it, or pass --repo PATH.', { cause });
  }
  return [
    repoFromFlag(['json', 'email', 'http'].map((name) => join(stdlib, name)).join(',')),
    repoFromFlag(join(packageRoot, 'node_modules', 'zod', 'src', 'v4', 'core')),
    repoFromFlag(join(packageRoot, 'node_modules', 'eslint', 'lib')),
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
