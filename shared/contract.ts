/**
 * The one contract between the engine and everything that talks to it: the desktop renderer
 * (through the preload bridge), the HTTP API under /api/ and the CLI. Each entry is
 * `"domain/action": [Request, Response]`; request schemas are validated at every boundary.
 */
import { z } from 'zod';
import type { SerializedError } from './errors.js';

export const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const askRequestSchema = z.strictObject({
  question: z.string(),
  /** Earlier turns of the conversation; part of the context the response cache keys on. */
  history: z.array(chatMessageSchema).max(200).optional(),
  /** Absolute path of the project the question is about, when one is set. */
  project: z.string().min(1).max(4096).optional(),
  maxTokens: z.number().int().min(1).max(8192).optional(),
  /** Skip the response cache lookup (the answer is still recorded and cached). */
  noCache: z.boolean().optional(),
  source: z.enum(['cli', 'api', 'openai', 'desktop', 'tray', 'bench']).optional(),
});
export type AskRequest = z.infer<typeof askRequestSchema>;

export interface AdapterUse {
  name: string;
  version: string;
  scale: number;
}

export type FinishReason = 'stop' | 'length' | 'repetition';

export interface RetrievalSource {
  path: string;
  startLine: number;
  endLine: number;
  symbol: string | null;
}

/** Whether the answer used retrieved project code, why, and which code it was given. */
export interface RetrievalReport {
  used: boolean;
  reasons: string[];
  sources: RetrievalSource[];
}

export interface Timings {
  /** Time to first token; for a cached answer, time to the cache hit. */
  ttftMs: number;
  totalMs: number;
  tokens: number;
  /** Tokens of the whole prompt (system prompt, history, question); 0 for a cached answer. */
  promptTokens: number;
  /** Model download + load time paid by this request (lazy load), 0 when already loaded. */
  loadMs: number;
}

export interface AskResponse {
  interactionId: string;
  answer: string;
  cached: boolean;
  /** The interaction whose answer was reused, when `cached`. */
  cachedFrom: string | null;
  model: string;
  adapters: AdapterUse[];
  timings: Timings;
  /** "length": stopped at maxTokens; "repetition": stopped because the model was looping. */
  finishReason: FinishReason;
  retrieval: RetrievalReport;
  createdAt: string;
}

export const progressTasks = ['model-download', 'model-load', 'database-open', 'embedder-download', 'project-index'] as const;
export type ProgressTask = (typeof progressTasks)[number];

export interface Progress {
  task: ProgressTask;
  label: string;
  /** 0..1 when the total is known. */
  fraction: number | null;
  done: boolean;
}

/** What a streaming method sends: progress, tokens (chat only), then one `done` or `error`. */
export type StreamEvent<Result> =
  | { type: 'progress'; progress: Progress }
  | { type: 'token'; text: string }
  | { type: 'done'; result: Result }
  | { type: 'error'; error: SerializedError };

export type AskStreamEvent = StreamEvent<AskResponse>;

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  model: { name: string; loaded: boolean; threads: number; contextSize: number };
  database: { kind: 'pglite' | 'postgres'; ok: boolean; error: SerializedError | null };
}

export type InteractionStatus = 'pending' | 'completed' | 'failed' | 'cancelled';

export interface InteractionRecord {
  id: string;
  createdAt: string;
  finishedAt: string | null;
  source: string;
  question: string;
  history: ChatMessage[];
  project: string | null;
  answer: string | null;
  status: InteractionStatus;
  error: SerializedError | null;
  cached: boolean;
  cachedFrom: string | null;
  model: string;
  modelFingerprint: string;
  adapters: AdapterUse[];
  timings: Timings | null;
  retrieval: RetrievalReport | null;
}

export const indexProjectRequestSchema = z.strictObject({ path: z.string().min(1).max(4096) });
export const projectStatusRequestSchema = z.strictObject({ path: z.string().min(1).max(4096) });

export interface IndexResult {
  root: string;
  projectId: string;
  /** Files and chunks in the index after the run. */
  files: number;
  chunks: number;
  changedFiles: number;
  unchangedFiles: number;
  removedFiles: number;
  embeddedChunks: number;
  /** Files left out, by reason (ignored, binary, too-large, symlink-loop, unreadable, secret, vanished). */
  skipped: Record<string, number>;
  secretsSkipped: number;
  seconds: number;
}

export interface ProjectStatus {
  root: string;
  indexed: boolean;
  files: number;
  chunks: number;
  lastIndexedAt: string | null;
}

export const getInteractionRequestSchema = z.strictObject({ id: z.string().min(1).max(100) });
export const listInteractionsRequestSchema = z.strictObject({
  limit: z.number().int().min(1).max(500).optional(),
  project: z.string().optional(),
});
export const healthRequestSchema = z.strictObject({});

export interface ApiContract {
  'chat/ask': [AskRequest, AskResponse];
  'system/health': [z.infer<typeof healthRequestSchema>, Health];
  'interactions/get': [z.infer<typeof getInteractionRequestSchema>, InteractionRecord];
  'interactions/list': [z.infer<typeof listInteractionsRequestSchema>, { items: InteractionRecord[] }];
  'rag/index': [z.infer<typeof indexProjectRequestSchema>, IndexResult];
  'rag/status': [z.infer<typeof projectStatusRequestSchema>, ProjectStatus];
}

export type ApiMethod = keyof ApiContract;
export type ApiRequest<M extends ApiMethod> = ApiContract[M][0];
export type ApiResponse<M extends ApiMethod> = ApiContract[M][1];

export const requestSchemas: { [M in ApiMethod]: z.ZodType<ApiRequest<M>> } = {
  'chat/ask': askRequestSchema,
  'system/health': healthRequestSchema,
  'interactions/get': getInteractionRequestSchema,
  'interactions/list': listInteractionsRequestSchema,
  'rag/index': indexProjectRequestSchema,
  'rag/status': projectStatusRequestSchema,
};

/** Methods that can answer as a stream of `AskStreamEvent`s (SSE over HTTP, a port in Electron). */
export const streamingMethods = ['chat/ask', 'rag/index'] as const satisfies readonly ApiMethod[];

export function isApiMethod(value: string): value is ApiMethod {
  return Object.hasOwn(requestSchemas, value);
}

/** HTTP path of a contract method: `/api/chat/ask`. */
export function apiPath(method: ApiMethod): string {
  return `/api/${method}`;
}

/** Turns a zod failure into one line per offending field, naming the field. */
export function describeValidationIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}
