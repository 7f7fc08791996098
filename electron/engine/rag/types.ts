/**
 * The seams of retrieval: the walker finds files, the chunker cuts them into functions and
 * classes, the embedder turns chunks into vectors, the store keeps and searches them.
 */

/** A file the walker found and did not rule out by name, place or size. */
export interface WalkEntry {
  /** POSIX-style path relative to the project root: the file's identity in the index. */
  relativePath: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
  /** The project's canonical root: the reader checks again that the file still resolves inside it (a path may be swapped for a symlink after the walk). */
  root?: string | undefined;
}

/** `outside-project`: a symlink leading out of the project folder (to /etc, ~/.ssh, /proc/self…), never followed. */
export const skipReasons = ['ignored', 'binary', 'too-large', 'symlink-loop', 'outside-project', 'unreadable', 'secret', 'vanished'] as const;
export type SkipReason = (typeof skipReasons)[number];

export type SkipCounts = Record<SkipReason, number>;

export type FileReadResult = { ok: true; content: string; contentHash: string } | { ok: false; reason: SkipReason; detail: string };

export const chunkKinds = ['function', 'method', 'class', 'section', 'element', 'window'] as const;
export type ChunkKind = (typeof chunkKinds)[number];

export interface Chunk {
  relativePath: string;
  language: string;
  /** Qualified where it helps (`Model.write`), null for sections and windows without a name. */
  symbol: string | null;
  kind: ChunkKind;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  content: string;
  /** SHA-256 of `content`, hex. */
  contentHash: string;
}

export interface Embedder {
  /** Names the model and its settings: vectors from different ids are never compared. */
  readonly id: string;
  readonly dimensions: number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** Counts the tokens a text takes in the answering model's vocabulary (budgets of retrieved code). */
export type TokenCounter = (text: string) => number;
