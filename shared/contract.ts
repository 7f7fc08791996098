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
  /**
   * The interaction this message reacts to, whose reward the message's tone feeds. Omitted: the
   * latest interaction of the same source and project within the follow-up window. null: none
   * (the first question of a new conversation).
   */
  replyTo: z.string().min(1).max(100).nullable().optional(),
  /**
   * The interaction whose answer this request asks for again (a Regenerate button): recorded as
   * that interaction's `regenerated` event, and the repeated question is not read as a follow-up.
   */
  regenerates: z.string().min(1).max(100).optional(),
  /**
   * Which version of each matching LoRA adapter answers: `stable` (the default) or the newest
   * `experimental` one, to try it before it is promoted (falls back to stable where there is none).
   */
  adapterChannel: z.enum(['stable', 'experimental']).optional(),
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
  /**
   * Of those, the tokens llama.cpp had to evaluate: the rest (the system prompt, an unchanged
   * conversation) was reused from the previous question's KV cache. Absent for a cached answer.
   */
  evaluatedPromptTokens?: number;
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

export const progressTasks = ['model-download', 'model-load', 'database-open', 'embedder-download', 'project-index', 'learning'] as const;
export type ProgressTask = (typeof progressTasks)[number];

export interface Progress {
  task: ProgressTask;
  label: string;
  /** 0..1 when the total is known. */
  fraction: number | null;
  done: boolean;
  /** Downloads: bytes so far (resumed ones included) of the total, for a byte counter beside the bar. */
  bytes?: { done: number; total: number };
  /** Estimated seconds left, from this run's rate; null until a rate is known. */
  etaSeconds?: number | null;
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
  /** LoRA adapters on the loaded model, and those left out of answers because they are broken or foreign. */
  adapters?: { applied: AdapterUse[]; skipped: SkippedAdapter[] };
}

/** An adapter version that answers do without, and why (its file is missing, damaged or for another base). */
export interface SkippedAdapter {
  name: string;
  version: string;
  code: string;
  reason: string;
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

export const pathRequestSchema = z.strictObject({ path: z.string().min(1).max(4096) });

/** A stack detected from a project's metadata (context/). */
export interface DetectedStack {
  name: string;
  /** Major.minor as declared (or the Odoo series, the Rust edition); null when nothing declares it. */
  version: string | null;
  /** 0..1 with two decimals: noisy-OR of the evidence weights (context/README.md). */
  confidence: number;
  /** Strongest first; each names the file or folder it comes from: `package.json depends on next ^14.2.3`. */
  evidence: string[];
}

export interface ContextProposal {
  /** Absolute path of the folder that was scanned. */
  root: string;
  /** Most likely first; a framework precedes the base stacks it implies. Empty: not a recognised project. */
  stacks: DetectedStack[];
  scannedFiles: number;
  /** True when the depth, entry or manifest limits left part of the tree unread. */
  truncated: boolean;
  elapsedMs: number;
  /** The most frequent file extensions (lower-case, with the dot) among the scanned files. */
  extensions: Record<string, number>;
}

export const confirmContextRequestSchema = z.strictObject({
  path: z.string().min(1).max(4096),
  /** The stacks the user confirms; omitted = the detected proposal as it is. */
  stacks: z
    .array(z.strictObject({ name: z.string().min(1).max(64), version: z.string().min(1).max(32).nullable().optional() }))
    .max(32)
    .optional(),
});

/** The confirmed, versioned description of a project that conditions learning and the modulator. */
export interface ProjectProfile {
  root: string;
  /** 1 for the first confirmation; each later confirmation adds a version. */
  version: number;
  stacks: DetectedStack[];
  /** The user changed the proposal (added, removed or re-versioned a stack). */
  edited: boolean;
  contextVector: number[];
  confirmedAt: string;
}

export const feedbackEventTypes = ['copied', 'inserted', 'edited', 'regenerated', 'corrected', 'dwell', 'ignored', 'follow-up'] as const;
export type FeedbackEventType = (typeof feedbackEventTypes)[number];

export const feedbackRequestSchema = z.strictObject({
  /** Client-chosen id that makes a retry harmless; generated when omitted. */
  eventId: z.string().min(8).max(100).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').optional(),
  interactionId: z.string().min(1).max(100),
  /** `follow-up` is derived by the engine from the user's next message and cannot be sent. */
  type: z.enum(feedbackEventTypes).exclude(['follow-up']),
  /** dwell: seconds; edited: edit distance in characters (or send `text`). */
  value: z.number().finite().optional(),
  /** edited: the user's final version of the answer; corrected: the user's correction. */
  text: z.string().max(200_000).optional(),
  /** When it happened on the client (ISO 8601); defaults to when it arrived. */
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});
export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;

export interface RewardSummary {
  interactionId: string;
  /** In [-1, 1]; null until an event has arrived. */
  reward: number | null;
  /** Each signal's contribution before squashing. */
  components: Record<string, number>;
  events: number;
}

export interface FeedbackAck {
  eventId: string;
  /** The same event had already been stored; nothing changed. */
  duplicate: boolean;
  reward: RewardSummary;
}

export const statsRequestSchema = z.strictObject({
  project: z.string().min(1).max(4096).optional(),
  /** Days of history in the daily series. */
  days: z.number().int().min(1).max(3650).optional(),
});

export interface BehaviourMetrics {
  interactions: number;
  /** Share of answered interactions copied or inserted. */
  acceptanceRate: number | null;
  regenerateRate: number | null;
  /** Share of answers whose follow-up message read as frustrated. */
  frustrationRate: number | null;
  meanReward: number | null;
  rewarded: number;
  cacheHitRate: number | null;
  retrievalRate: number | null;
  latencyMs: { ttftP50: number | null; ttftP95: number | null; totalP50: number | null; totalP95: number | null };
}

export interface BehaviourStats {
  overall: BehaviourMetrics;
  projects: ({ project: string | null } & BehaviourMetrics)[];
  daily: ({ day: string } & BehaviourMetrics)[];
  /** Latest rewarded interactions, newest first. */
  recentRewards: { interactionId: string; createdAt: string; question: string; project: string | null; reward: number; events: number }[];
}

export const adapterChannels = ['experimental', 'stable', 'archived'] as const;
export type AdapterChannelName = (typeof adapterChannels)[number];

/** One registered LoRA adapter version (adapters/README.md). */
export interface AdapterRecord {
  name: string;
  version: number;
  /** At most one version per name is `stable`: the one answers use. */
  channel: AdapterChannelName;
  /** `user`, or the stack whose projects it serves (`odoo`). */
  scope: string;
  project: string | null;
  baseModel: string;
  baseModelFingerprint: string;
  parentVersion: number | null;
  trainingRunId: string | null;
  /** The GGUF file, relative to the data folder. */
  path: string;
  sha256: string;
  bytes: number;
  rank: number;
  alpha: number;
  targets: string[];
  importancePath: string | null;
  metrics: Record<string, unknown>;
  /** Why it is in its channel. */
  reason: string | null;
  createdAt: string;
  promotedAt: string | null;
}

export const adapterNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits and . _ - only, at most 64');
export const listAdaptersRequestSchema = z.strictObject({ name: adapterNameSchema.optional() });
export const changeAdapterChannelRequestSchema = z.strictObject({
  name: adapterNameSchema,
  /** promote: default the newest experimental version; rollback: the version promoted before the current one. */
  version: z.number().int().min(1).optional(),
  reason: z.string().min(1).max(1000).optional(),
});

/** The outcome of a promotion or rollback: the new stable version and the one it replaced. */
export interface AdapterChannelChange {
  stable: AdapterRecord;
  archived: AdapterRecord | null;
}

export const learnRequestSchema = z.strictObject({
  /** The project folder to consolidate. */
  project: z.string().min(1).max(4096),
  /** Train this adapter instead of the one the project's first confirmed stack names (`user` for a per-user adapter). */
  adapter: adapterNameSchema.optional(),
  /** Seed of the data order, replay sample and fresh adapter weights (default learning.seed), recorded with the run. */
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
});

export type LearnRequest = z.infer<typeof learnRequestSchema>;

/** What one consolidation did (learning/README.md); `npllm learn --json` prints it. */
export interface LearnResult {
  runId: string;
  adapter: string;
  /** The version it registered; null when it stopped before registering one. */
  version: number | null;
  channel: 'stable' | 'experimental' | null;
  /** Held-out NLL per project (this one and every earlier one the adapter learned) before and after. */
  nllBefore: Record<string, number>;
  nllAfter: Record<string, number>;
  promoted: boolean;
  reason: string;
  parentVersion: number | null;
  lossCurve: number[];
  stats: LearnRunStats;
  /** The judge's noise-aware test per judged project (this one and every earlier one). */
  tests?: Record<string, LearningTest>;
  /** The new version against the base on indexed projects the adapter has not learned (forward transfer). */
  transfer?: Record<string, LearningTest>;
}

/** One paired comparison on a project's held-out sample (shared/learning-metrics.ts `pairedChange`). */
export interface LearningTest {
  before: number;
  after: number;
  /** after − before, nats per token; below 0 is better. */
  change: number;
  standardError: number;
  groups: number;
  tokens: number;
  /** This project gained beyond noise, or (earlier and unlearned projects) worsened beyond tolerance and noise. */
  significant: boolean;
}

export interface LearnRunStats {
  trainTexts: number;
  replayTexts: number;
  heldOutTexts: number;
  steps: number;
  trainTokens: number;
  tokensPerSecond: number;
  durationMs: number;
  masLambda: number;
  /** The run's seed (learning.seed or the request's). */
  seed?: number;
}

export type LearningRunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface LearningRunRecord {
  id: string;
  adapter: string;
  project: string;
  status: LearningRunStatus;
  startedAt: string;
  finishedAt: string | null;
  version: number | null;
  promoted: boolean | null;
  reason: string | null;
  lossCurve: number[];
  nllBefore: Record<string, number> | null;
  nllAfter: Record<string, number> | null;
  importanceStats: Record<string, number> | null;
  stats: Record<string, number> | null;
  error: SerializedError | null;
}

/** The background learner: what it is doing and what waits. */
export interface LearnerStatus {
  state: 'idle' | 'running' | 'paused';
  current: { project: string; adapter: string | null; runId: string | null; progress: Progress | null } | null;
  queue: string[];
  last: LearnResult | null;
  lastError: SerializedError | null;
}

export const learningStatsRequestSchema = z.strictObject({
  adapter: adapterNameSchema.optional(),
  /** Most recent runs listed per adapter. */
  runs: z.number().int().min(1).max(500).optional(),
});

/**
 * One adapter's learning history: the forgetting matrix (held-out NLL of each version, row, on each
 * project, column; row version 0 = the base model), the gain over the base, and backward transfer
 * (Lopez-Paz & Ranzato, 2017). Computed by `learningMatrix` in shared/learning-metrics.ts.
 */
export interface AdapterLearningStats {
  adapter: string;
  /** Columns: projects in the order the adapter first learned them, then projects only evaluated. */
  projects: string[];
  /** Rows: 0 (base) then every registered or evaluated version, ascending; `project` = the one it learned. */
  versions: { version: number; channel: AdapterChannelName | 'base'; project: string | null; createdAt: string | null }[];
  /** nll[row][column]: held-out NLL per token; null = not measured, or measured on an older held-out set. */
  nll: (number | null)[][];
  /** (base − nll) / base per cell: the share of the base's NLL the version removed. */
  gain: (number | null)[][];
  /**
   * Mean over the projects its ancestors learned of gain(bwtVersion, p) − gain(ancestor that learned
   * p, p); < 0 is forgetting. null with fewer than two learned projects or no measured pair.
   */
  bwt: number | null;
  /** The version BWT is measured at: the stable one, else the newest that learned a project. */
  bwtVersion: number | null;
  /**
   * Forward transfer along the same ancestry: mean over the projects it learned (the first
   * excepted) of the gain the version before had on p, before learning it. null when unmeasured.
   */
  fwt?: number | null;
  /** Newest first. */
  runs: LearningRunRecord[];
}

export interface LearningStats {
  adapters: AdapterLearningStats[];
}

/** A model of the catalogue (`npllm models list`, the settings screen). */
export interface CatalogueModel {
  id: string;
  name: string;
  /** Size of the model file. */
  sizeBytes: number;
  licence: string;
  /** Its verified file is in the models folder. */
  installed: boolean;
  /** The model this configuration answers with when no other is given (`model.name`). */
  default: boolean;
  role: 'default' | 'lite' | 'tiny';
  description: string;
}

export const catalogueIdSchema = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'a catalogue id such as coder-1.5b');
export const pullModelRequestSchema = z.strictObject({ id: catalogueIdSchema });

export interface PulledModel {
  id: string;
  path: string;
  sizeBytes: number;
}

export interface ApiContract {
  'chat/ask': [AskRequest, AskResponse];
  'system/health': [z.infer<typeof healthRequestSchema>, Health];
  'interactions/get': [z.infer<typeof getInteractionRequestSchema>, InteractionRecord];
  'interactions/list': [z.infer<typeof listInteractionsRequestSchema>, { items: InteractionRecord[] }];
  'rag/index': [z.infer<typeof indexProjectRequestSchema>, IndexResult];
  'rag/status': [z.infer<typeof projectStatusRequestSchema>, ProjectStatus];
  'context/detect': [z.infer<typeof pathRequestSchema>, ContextProposal];
  'context/confirm': [z.infer<typeof confirmContextRequestSchema>, ProjectProfile];
  'context/get': [z.infer<typeof pathRequestSchema>, { profile: ProjectProfile | null }];
  'feedback/record': [FeedbackRequest, FeedbackAck];
  'stats/behaviour': [z.infer<typeof statsRequestSchema>, BehaviourStats];
  'adapters/list': [z.infer<typeof listAdaptersRequestSchema>, { items: AdapterRecord[] }];
  'adapters/promote': [z.infer<typeof changeAdapterChannelRequestSchema>, AdapterChannelChange];
  'adapters/rollback': [z.infer<typeof changeAdapterChannelRequestSchema>, AdapterChannelChange];
  'learning/consolidate': [LearnRequest, LearnResult];
  'learning/status': [z.infer<typeof healthRequestSchema>, LearnerStatus];
  'stats/learning': [z.infer<typeof learningStatsRequestSchema>, LearningStats];
  'models/list': [z.infer<typeof healthRequestSchema>, { items: CatalogueModel[] }];
  'models/pull': [z.infer<typeof pullModelRequestSchema>, PulledModel];
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
  'context/detect': pathRequestSchema,
  'context/confirm': confirmContextRequestSchema,
  'context/get': pathRequestSchema,
  'feedback/record': feedbackRequestSchema,
  'stats/behaviour': statsRequestSchema,
  'adapters/list': listAdaptersRequestSchema,
  'adapters/promote': changeAdapterChannelRequestSchema,
  'adapters/rollback': changeAdapterChannelRequestSchema,
  'learning/consolidate': learnRequestSchema,
  'learning/status': healthRequestSchema,
  'stats/learning': learningStatsRequestSchema,
  'models/list': healthRequestSchema,
  'models/pull': pullModelRequestSchema,
};

/** Methods that can answer as a stream of `AskStreamEvent`s (SSE over HTTP, a port in Electron). */
export const streamingMethods = ['chat/ask', 'rag/index', 'learning/consolidate', 'models/pull'] as const satisfies readonly ApiMethod[];

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
