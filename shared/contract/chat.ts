/** Asking a question: the critical path (pipeline/), streamed token by token. */
import { z } from 'zod';
import { adapterUseSchema, chatMessageSchema } from './common.js';
import { method } from './method.js';

export const askSources = ['cli', 'api', 'openai', 'desktop', 'tray', 'bench'] as const;

export const askRequestSchema = z.strictObject({
  question: z.string(),
  /** Earlier turns of the conversation; part of the context the response cache keys on. */
  history: z.array(chatMessageSchema).max(200).optional(),
  /** Absolute path of the project the question is about, when one is set. */
  project: z.string().min(1).max(4096).optional(),
  maxTokens: z.number().int().min(1).max(8192).optional(),
  /** Skip the response cache lookup (the answer is still recorded and cached). */
  noCache: z.boolean().optional(),
  source: z.enum(askSources).optional(),
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

export const finishReasons = ['stop', 'length', 'repetition'] as const;
export type FinishReason = (typeof finishReasons)[number];

export const retrievalSourceSchema = z.object({
  path: z.string(),
  startLine: z.number(),
  endLine: z.number(),
  symbol: z.string().nullable(),
});
export type RetrievalSource = z.infer<typeof retrievalSourceSchema>;

/** Whether the answer used retrieved project code, why, and which code it was given. */
export const retrievalReportSchema = z.object({
  used: z.boolean(),
  reasons: z.array(z.string()),
  sources: z.array(retrievalSourceSchema),
});
export type RetrievalReport = z.infer<typeof retrievalReportSchema>;

export const timingsSchema = z.object({
  /** Time to first token; for a cached answer, time to the cache hit. */
  ttftMs: z.number(),
  totalMs: z.number(),
  tokens: z.number(),
  /** Tokens of the whole prompt (system prompt, history, question); 0 for a cached answer. */
  promptTokens: z.number(),
  /**
   * Of those, the tokens llama.cpp had to evaluate: the rest (the system prompt, an unchanged
   * conversation) was reused from the previous question's KV cache. Absent for a cached answer.
   */
  evaluatedPromptTokens: z.number().optional(),
  /** Model download + load time paid by this request (lazy load), 0 when already loaded. */
  loadMs: z.number(),
});
export type Timings = z.infer<typeof timingsSchema>;

export const askResponseSchema = z.object({
  interactionId: z.string(),
  answer: z.string(),
  cached: z.boolean(),
  /** The interaction whose answer was reused, when `cached`. */
  cachedFrom: z.string().nullable(),
  model: z.string(),
  adapters: z.array(adapterUseSchema),
  timings: timingsSchema,
  /** "length": stopped at maxTokens; "repetition": stopped because the model was looping. */
  finishReason: z.enum(finishReasons),
  retrieval: retrievalReportSchema,
  createdAt: z.string(),
});
export type AskResponse = z.infer<typeof askResponseSchema>;

export const chatMethods = {
  'chat/ask': method({
    summary: 'Answer a question (with the project\'s code when it helps), recorded before it is acknowledged; streams progress and tokens.',
    request: askRequestSchema,
    response: askResponseSchema,
    stream: ['progress', 'token'],
  }),
};
