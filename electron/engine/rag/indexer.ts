/**
 * Incremental indexing of a project: walk → compare with the index by size and mtime → read and
 * hash only what changed → chunk → embed in batches → replace each batch of files in one
 * transaction → drop files that disappeared. A cancelled or killed run keeps every batch it
 * committed; the next run sees those files as unchanged and finishes the rest.
 */
import type { IndexResult } from '../../../shared/contract.js';
import { cancelled } from '../../../shared/errors.js';
import type { Database } from '../db/client.js';
import { projectId, resolveProjectRoot } from '../project/root.js';
import { secretRulesVersion } from '../secrets/secrets.js';
import { chunkSearchText } from './search-text.js';
import {
  findProject,
  loadFileStates,
  markProjectIndexed,
  projectTotals,
  refreshStatistics,
  refreshTermStatistics,
  removeFiles,
  replaceFiles,
  touchFile,
  upsertProject,
  type IndexedFile,
} from './queries.js';
import { skipReasons, type Chunk, type Embedder, type FileReadResult, type SkipCounts, type SkipReason, type WalkEntry } from './types.js';

export interface IndexerParts {
  walk(
    root: string,
    options: { maxFileBytes: number; signal?: AbortSignal; onSkip?: (reason: SkipReason, relativePath: string, detail: string) => void },
  ): AsyncIterable<WalkEntry>;
  read(entry: WalkEntry, options: { maxFileBytes: number; signal?: AbortSignal }): Promise<FileReadResult>;
  chunk(file: { relativePath: string; content: string }): Chunk[] | Promise<Chunk[]>;
  embedder: Embedder;
}

export interface IndexOptions {
  maxFileBytes: number;
  /** Chunks embedded and committed together. */
  batchChunks: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: IndexProgress) => void) | undefined;
}

export interface IndexProgress {
  phase: 'scanning' | 'indexing' | 'cleaning';
  filesSeen: number;
  /** Files whose size or mtime differ from the index: the work of this run. */
  filesToIndex: number | null;
  filesIndexed: number;
  chunksEmbedded: number;
  etaSeconds: number | null;
}

/** Same shape as the contract's result: what the CLI prints and the API returns. */
export type IndexSummary = IndexResult;

export async function indexProject(database: Database, parts: IndexerParts, path: string, options: IndexOptions): Promise<IndexSummary> {
  const started = performance.now();
  const root = await resolveProjectRoot(path);
  const id = projectId(root);
  const { signal, onProgress } = options;
  const before = await findProject(database.db, root);
  // A first index checks every file with today's rules, so a run killed midway leaves files the next one can skip.
  await upsertProject(database.db, { id: id, root, embedderId: parts.embedder.id, secretRules: secretRulesVersion });
  const indexed = await loadFileStates(database.db, id);
  // Files indexed under older secret rules are read again (an unchanged one costs a hash, not an
  // embedding): a token those rules missed leaves the index with the first run that knows it.
  const recheckAll = before !== null && before.secretRules !== secretRulesVersion;

  const skipped = Object.fromEntries(skipReasons.map((reason) => [reason, 0])) as SkipCounts;
  const progress: IndexProgress = { phase: 'scanning', filesSeen: 0, filesToIndex: null, filesIndexed: 0, chunksEmbedded: 0, etaSeconds: null };
  const seen = new Set<string>();
  const toIndex: WalkEntry[] = [];
  for await (const entry of parts.walk(root, { maxFileBytes: options.maxFileBytes, ...(signal ? { signal } : {}), onSkip: (reason) => skipped[reason]++ })) {
    seen.add(entry.relativePath);
    const known = indexed.get(entry.relativePath);
    if (!known || recheckAll || known.size !== entry.size || known.mtimeMs !== entry.mtimeMs) toIndex.push(entry);
    if (++progress.filesSeen % 500 === 0) onProgress?.({ ...progress });
  }

  progress.phase = 'indexing';
  progress.filesToIndex = toIndex.length;
  onProgress?.({ ...progress });
  const indexingStarted = performance.now();
  let pending: IndexedFile[] = [];
  let pendingChunks = 0;
  let changedFiles = 0;
  const vanished: string[] = [];

  const store = async (batch: IndexedFile[]) => {
    const chunks = batch.flatMap((file) => file.chunks);
    const vectors = await parts.embedder.embed(
      chunks.map((chunk) => `${chunk.relativePath}${chunk.symbol ? ` ${chunk.symbol}` : ''}\n${chunk.content}`),
      signal,
    );
    chunks.forEach((chunk, index) => (chunk.embedding = vectors[index]!));
    if (signal?.aborted) throw cancelled('Indexing was cancelled; run it again to finish (work already saved is kept).');
    await replaceFiles(database, id, batch);
    progress.filesIndexed += batch.length;
    progress.chunksEmbedded += chunks.length;
    const elapsed = (performance.now() - indexingStarted) / 1000;
    const rate = progress.filesIndexed / Math.max(elapsed, 1e-3);
    progress.etaSeconds = Math.round((toIndex.length - progress.filesIndexed) / Math.max(rate, 1e-3));
    onProgress?.({ ...progress });
  };
  // One batch is embedded (in the embedder's worker) while the next is read and parsed here.
  let storing: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingChunks = 0;
    await storing;
    storing = store(batch);
    // Awaited by the next flush or after the loop; this only keeps it from counting as unhandled meanwhile.
    storing.catch(() => undefined);
  };

  try {
    for (const entry of toIndex) {
      if (signal?.aborted) throw cancelled('Indexing was cancelled; run it again to finish (work already saved is kept).');
      const read = await parts.read(entry, { maxFileBytes: options.maxFileBytes, ...(signal ? { signal } : {}) });
      const known = indexed.get(entry.relativePath);
      if (!read.ok) {
        skipped[read.reason]++;
        // A file that became unreadable, binary, too large or secret leaves the index.
        if (known) vanished.push(entry.relativePath);
        progress.filesIndexed++;
        continue;
      }
      if (known && known.contentHash === read.contentHash) {
        await touchFile(database.db, id, entry.relativePath, { size: entry.size, mtimeMs: entry.mtimeMs, contentHash: read.contentHash });
        progress.filesIndexed++;
        continue;
      }
      const chunks = await parts.chunk({ relativePath: entry.relativePath, content: read.content });
      changedFiles++;
      pending.push({
        relativePath: entry.relativePath,
        size: entry.size,
        mtimeMs: entry.mtimeMs,
        contentHash: read.contentHash,
        language: chunks[0]?.language ?? 'text',
        chunks: chunks.map((chunk) => ({ ...chunk, searchText: chunkSearchText(chunk), embedding: new Float32Array(0) })),
      });
      pendingChunks += chunks.length;
      if (pendingChunks >= options.batchChunks) await flush();
    }
    await flush();
    await storing;
  } finally {
    // Nothing may write after indexing returned or failed.
    await storing.catch(() => undefined);
  }
  if (signal?.aborted) throw cancelled('Indexing was cancelled; run it again to finish (work already saved is kept).');

  progress.phase = 'cleaning';
  onProgress?.({ ...progress });
  const gone = [...indexed.keys()].filter((relativePath) => !seen.has(relativePath));
  await removeFiles(database, id, [...gone, ...vanished]);
  if (changedFiles > 0 || gone.length + vanished.length > 0) await refreshStatistics(database.db);
  await markProjectIndexed(database.db, id, secretRulesVersion);
  const totals = await projectTotals(database.db, id);
  // Also after a cancelled run whose saved batches the next, unchanged run does not touch again.
  const counted = (await findProject(database.db, root))?.termStatsChunks;
  if (changedFiles > 0 || gone.length + vanished.length > 0 || counted !== totals.chunks) await refreshTermStatistics(database.db, id);
  return {
    root,
    projectId: id,
    files: totals.files,
    chunks: totals.chunks,
    changedFiles,
    unchangedFiles: seen.size - toIndex.length,
    removedFiles: gone.length + vanished.length,
    embeddedChunks: progress.chunksEmbedded,
    skipped,
    secretsSkipped: skipped.secret,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}
