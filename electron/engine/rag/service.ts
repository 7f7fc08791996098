/**
 * Retrieval as the engine sees it: index a project, report its status, prepare retrieval for a
 * question. The embedder and the parsers load lazily: a question without a project never pays
 * for them.
 */
import type { IndexResult, Progress, ProjectStatus } from '../../../shared/contract.js';
import { NpllmError } from '../../../shared/errors.js';
import type { RagConfig } from './config.js';
import { databaseFailure, isDatabaseFailure, type Database } from '../db/client.js';
import { RuleBasedGate } from './gate.js';
import { indexProject, type IndexerParts, type IndexProgress } from './indexer.js';
import { resolveProjectRoot } from '../project/root.js';
import { findProject, projectTotals } from './queries.js';
import { Retriever } from './retriever.js';
import type { Embedder } from './types.js';

export interface RagFactories {
  walk: IndexerParts['walk'];
  read: IndexerParts['read'];
  createChunker(): Promise<{ chunk: IndexerParts['chunk']; dispose?(): void }>;
  createEmbedder(onProgress?: (progress: Progress) => void): Promise<Embedder>;
}

export class RagService {
  readonly retriever: Retriever;
  private embedderLoad: Promise<Embedder> | undefined;
  private loaded: Embedder | null = null;
  private chunkerLoad: ReturnType<RagFactories['createChunker']> | undefined;

  constructor(
    private readonly database: Database,
    private readonly config: RagConfig,
    private readonly factories: RagFactories,
  ) {
    this.retriever = new Retriever(
      database,
      () => this.embedder(),
      new RuleBasedGate(config.gate),
      { topK: config.topK, candidates: config.candidates },
      () => this.loaded,
    );
  }

  embedder(onProgress?: (progress: Progress) => void): Promise<Embedder> {
    this.embedderLoad ??= this.factories.createEmbedder(onProgress).then(
      (embedder) => (this.loaded = embedder),
      (error: unknown) => {
        this.embedderLoad = undefined;
        throw error;
      },
    );
    return this.embedderLoad;
  }

  private chunker() {
    this.chunkerLoad ??= this.factories.createChunker().catch((error: unknown) => {
      this.chunkerLoad = undefined;
      throw error;
    });
    return this.chunkerLoad;
  }

  async index(path: string, hooks: { signal?: AbortSignal | undefined; onProgress?: ((progress: Progress) => void) | undefined } = {}): Promise<IndexResult> {
    const [embedder, chunker] = await Promise.all([this.embedder(hooks.onProgress), this.chunker()]);
    return this.guard(() =>
      indexProject(this.database, { walk: this.factories.walk, read: this.factories.read, chunk: (file) => chunker.chunk(file), embedder }, path, {
        maxFileBytes: this.config.maxFileBytes,
        batchChunks: this.config.batchChunks,
        signal: hooks.signal,
        onProgress: hooks.onProgress && ((progress) => hooks.onProgress!(toProgress(progress))),
      }),
    );
  }

  /** A database lost mid-index is reported as such; committed batches stay, the next run finishes. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof NpllmError || !isDatabaseFailure(error)) throw error;
      throw databaseFailure(this.database.location, error);
    }
  }

  async status(path: string): Promise<ProjectStatus> {
    const root = await resolveProjectRoot(path);
    const project = await findProject(this.database.db, root);
    if (!project) return { root, indexed: false, files: 0, chunks: 0, lastIndexedAt: null };
    const totals = await projectTotals(this.database.db, project.id);
    return { root, indexed: totals.chunks > 0, ...totals, lastIndexedAt: project.lastIndexedAt?.toISOString() ?? null };
  }

  async dispose(): Promise<void> {
    const [embedder, chunker] = await Promise.all([this.embedderLoad?.catch(() => undefined), this.chunkerLoad?.catch(() => undefined)]);
    chunker?.dispose?.();
    await embedder?.dispose();
  }
}

function toProgress(progress: IndexProgress): Progress {
  if (progress.phase === 'scanning') return { task: 'project-index', label: `Scanning: ${progress.filesSeen} files`, fraction: null, done: false };
  if (progress.phase === 'cleaning') return { task: 'project-index', label: 'Removing deleted files from the index', fraction: 1, done: false };
  const total = progress.filesToIndex ?? 0;
  const eta = progress.etaSeconds === null ? '' : `, about ${progress.etaSeconds} s left`;
  return {
    task: 'project-index',
    label: `Indexing: ${progress.filesIndexed}/${total} changed files, ${progress.chunksEmbedded} chunks${eta}`,
    fraction: total === 0 ? 1 : progress.filesIndexed / total,
    done: false,
  };
}
