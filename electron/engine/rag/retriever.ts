/**
 * Retrieval for one question: find the project in the index, ask the gate, and when it says yes
 * run vector (HNSW) and full-text search, fuse them by reciprocal rank, and assemble the prompt.
 */
import type { ChatMessage, RetrievalReport } from '../../../shared/contract.js';
import type { Database } from '../db/client.js';
import { reciprocalRankFusion } from './fusion.js';
import type { RetrievalGate } from './gate.js';
import { buildContextMessage } from './prompt.js';
import { findPaths, findProject, findSymbols, projectHasChunks, searchByText, searchByVector, type ChunkHit } from './queries.js';
import { queryTerms } from './search-text.js';
import type { Embedder, TokenCounter } from './types.js';

export interface RetrieverOptions {
  /** Chunks given to the model at most. */
  topK: number;
  /** Candidates taken from each search before fusion. */
  candidates: number;
}

export interface Retrieval {
  report: RetrievalReport;
  /** The system message carrying the retrieved code, when there is any. */
  contextMessage: ChatMessage | null;
  /** Content hashes of what was given: part of the response cache key. */
  fingerprint: string[];
}

const notUsed = (reasons: string[]): Retrieval => ({ report: { used: false, reasons, sources: [] }, contextMessage: null, fingerprint: [] });

export class Retriever {
  constructor(
    private readonly database: Database,
    private readonly embedder: () => Promise<Embedder>,
    private readonly gate: RetrievalGate,
    private readonly options: RetrieverOptions,
  ) {}

  /**
   * `root`: the project folder's real path (indexer.ts resolveProjectRoot), which keys the index;
   * null without a project. `tokens` counts in the answering model's vocabulary, and `budget` says
   * how many tokens retrieved code may take given that counter; both are only asked for when the
   * gate decides to retrieve, so other questions never read the vocabulary.
   */
  async prepare(input: { question: string; history: readonly ChatMessage[]; root: string | null; tokens: () => Promise<TokenCounter>; budget: (count: TokenCounter) => number }): Promise<Retrieval> {
    const { root } = input;
    if (!root) return notUsed(['no project is set']);
    const db = this.database.db;
    const project = await findProject(db, root);
    if (!project || !(await projectHasChunks(db, project.id))) return notUsed([`${root} is not indexed yet (npllm index ${root})`]);
    const embedder = await this.embedder();
    if (project.embedderId !== embedder.id) return notUsed([`${root} was indexed with ${project.embedderId}, not ${embedder.id}: index it again`]);

    let questionVector: Float32Array | undefined;
    const embedQuestion = async () => (questionVector ??= (await embedder.embed([input.question]))[0]!);
    const decision = await this.gate.decide(
      { question: input.question, history: input.history },
      {
        findSymbols: (names) => findSymbols(db, project.id, names),
        findPaths: (paths) => findPaths(db, project.id, paths),
        nearestDistance: async () => (await searchByVector(db, project.id, await embedQuestion(), 1))[0]?.distance ?? null,
      },
    );
    if (!decision.retrieve) return notUsed(decision.reasons);

    const [byVector, byText] = await Promise.all([
      searchByVector(db, project.id, await embedQuestion(), this.options.candidates),
      searchByText(db, project.id, queryTerms(input.question), this.options.candidates),
    ]);
    const fused = fuseHits(byVector, byText, this.options.topK);
    const count = await input.tokens();
    const { message, sources } = buildContextMessage(fused, input.budget(count), count);
    const given = fused.filter((hit) => sources.some((source) => source.path === hit.relativePath && source.startLine === hit.startLine));
    return {
      report: { used: message !== null, reasons: message ? decision.reasons : [...decision.reasons, 'no retrieved chunk fits the context budget'], sources },
      contextMessage: message,
      fingerprint: given.map((hit) => hit.contentHash),
    };
  }
}

/** Both searches' hits fused by reciprocal rank; text search is the weaker list on docstring→code retrieval (BENCHMARKS.md), so it weighs half. */
export function fuseHits(byVector: readonly ChunkHit[], byText: readonly ChunkHit[], limit: number): ChunkHit[] {
  const hits = new Map<number, ChunkHit>([...byVector, ...byText].map((hit) => [hit.id, hit]));
  return reciprocalRankFusion([byVector.map((hit) => hit.id), byText.map((hit) => hit.id)], 60, [1, 0.5])
    .slice(0, limit)
    .map(({ id }) => hits.get(id)!);
}
