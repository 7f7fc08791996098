/**
 * Retrieval for one question: find the project in the index, ask the gate, and when it says yes
 * run vector (HNSW) and full-text search, fuse them by reciprocal rank, and assemble the prompt.
 */
import type { ChatMessage, RetrievalReport } from '../../../shared/contract.js';
import type { Database } from '../db/client.js';
import { reciprocalRankFusion } from './fusion.js';
import { isProjectWording, mentions, type GateDecision, type RetrievalGate } from './gate.js';
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

export const notUsed = (reasons: string[]): Retrieval => ({ report: { used: false, reasons, sources: [] }, contextMessage: null, fingerprint: [] });

/**
 * What retrieval knows of a question before anything is retrieved: whether the project can be
 * searched at all, the question's embedding, the distances of its nearest chunks, the project
 * symbols and files it names, and the rule-based gate's decision. The modulator decides from it.
 */
export interface RetrievalProbe {
  root: string | null;
  projectId: string | null;
  /** Why retrieval is impossible (no project, not indexed, another embedder); null when it is possible. */
  unavailable: string[] | null;
  /** A project is set. */
  project: boolean;
  /** Its index can be searched (unavailable is null). */
  indexed: boolean;
  embedding: Float32Array | null;
  /** Cosine distances of the nearest chunks, ascending. */
  distances: number[];
  identifiers: number;
  paths: number;
  symbols: number;
  files: number;
  namedInHistory: boolean;
  projectWording: boolean;
  /** The rule-based gate's decision: the prior the modulator starts from. */
  rule: GateDecision;
}

/** Nearest chunks the probe measures (top distance, and the gaps to the next ones). */
const probeDepth = 5;

export class Retriever {
  constructor(
    private readonly database: Database,
    private readonly embedder: () => Promise<Embedder>,
    private readonly gate: RetrievalGate,
    private readonly options: RetrieverOptions,
    /** The embedder if it is already loaded (questions without a project never load it). */
    private readonly loadedEmbedder: () => Embedder | null = () => null,
  ) {}

  /**
   * `root`: the project folder's real path (indexer.ts resolveProjectRoot), which keys the index;
   * null without a project. `tokens` counts in the answering model's vocabulary, and `budget` says
   * how many tokens retrieved code may take given that counter; both are only asked for when the
   * gate decides to retrieve, so other questions never read the vocabulary.
   */
  async prepare(input: {
    question: string;
    history: readonly ChatMessage[];
    root: string | null;
    tokens: () => Promise<TokenCounter>;
    budget: (count: TokenCounter) => number;
  }): Promise<Retrieval> {
    const probe = await this.probe(input);
    if (!probe.rule.retrieve) return notUsed(probe.rule.reasons);
    return this.fetch(probe, input);
  }

  /** Everything the decision needs, nothing retrieved yet (one embedding and one nearest-neighbour query). */
  async probe(input: { question: string; history: readonly ChatMessage[]; root: string | null; embedWithoutProject?: boolean }): Promise<RetrievalProbe> {
    const { identifiers, paths } = mentions(input.question);
    const base = {
      root: input.root,
      project: input.root !== null,
      indexed: false,
      projectId: null,
      embedding: null,
      distances: [],
      identifiers: identifiers.length,
      paths: paths.length,
      symbols: 0,
      files: 0,
      namedInHistory: false,
      projectWording: isProjectWording(input.question),
    };
    const unavailable = (reasons: string[], embedding: Float32Array | null = null): RetrievalProbe => ({
      ...base,
      embedding,
      unavailable: reasons,
      rule: { retrieve: false, reasons },
    });
    const { root } = input;
    if (!root) {
      const loaded = input.embedWithoutProject ? this.loadedEmbedder() : null;
      return unavailable(['no project is set'], loaded ? ((await loaded.embed([input.question]))[0] ?? null) : null);
    }
    const db = this.database.db;
    const project = await findProject(db, root);
    if (!project || !(await projectHasChunks(db, project.id))) return unavailable([`${root} is not indexed yet (npllm index ${root})`]);
    const embedder = await this.embedder();
    if (project.embedderId !== embedder.id) return unavailable([`${root} was indexed with ${project.embedderId}, not ${embedder.id}: index it again`]);

    const [embedding, symbols, files] = await Promise.all([
      embedder.embed([input.question]).then((vectors) => vectors[0]!),
      findSymbols(db, project.id, identifiers),
      findPaths(db, project.id, paths),
    ]);
    const distances = (await searchByVector(db, project.id, embedding, probeDepth)).map((hit) => hit.distance);
    const rule = await this.gate.decide(
      { question: input.question, history: input.history },
      { findSymbols: () => Promise.resolve(symbols), findPaths: () => Promise.resolve(files), nearestDistance: () => Promise.resolve(distances[0] ?? null) },
    );
    const context = input.history.map((message) => message.content).join('\n');
    const named = [...new Set([...symbols, ...files])];
    return {
      ...base,
      projectId: project.id,
      unavailable: null,
      indexed: true,
      embedding,
      distances,
      symbols: symbols.length,
      files: files.length,
      namedInHistory: named.length > 0 && named.every((name) => context.includes(name.split(/[./]/).at(-1)!)),
      rule,
    };
  }

  /** Retrieves for a probed question: vector and full-text search, fused, within the budget. */
  async fetch(
    probe: RetrievalProbe,
    input: { question: string; tokens: () => Promise<TokenCounter>; budget: (count: TokenCounter) => number },
    reasons: string[] = probe.rule.reasons,
  ): Promise<Retrieval> {
    if (probe.unavailable || !probe.projectId || !probe.embedding) return notUsed(probe.unavailable ?? reasons);
    const db = this.database.db;
    const [byVector, byText] = await Promise.all([
      searchByVector(db, probe.projectId, probe.embedding, this.options.candidates),
      searchByText(db, probe.projectId, queryTerms(input.question), this.options.candidates),
    ]);
    const fused = fuseHits(byVector, byText, this.options.topK);
    const count = await input.tokens();
    const { message, sources } = buildContextMessage(fused, input.budget(count), count);
    const given = fused.filter((hit) => sources.some((source) => source.path === hit.relativePath && source.startLine === hit.startLine));
    return {
      report: { used: message !== null, reasons: message ? reasons : [...reasons, 'no retrieved chunk fits the context budget'], sources },
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
