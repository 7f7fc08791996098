/** Asking a question: the critical path (pipeline/), streamed token by token. */
import { z } from 'zod';
import { adapterUseSchema, chatMessageSchema, conversationIdSchema } from './common.js';
import { method } from './method.js';
import { modulatorReportSchema } from './modulator.js';

export const askSources = ['cli', 'api', 'openai', 'desktop', 'tray', 'bench'] as const;

export const askRequestSchema = z.strictObject({
  question: z.string(),
  history: z.array(chatMessageSchema).max(200).optional().describe('Earlier turns of the conversation; part of the context the response cache keys on.'),
  project: z.string().min(1).max(4096).optional().describe('Absolute path of the project the question is about, when one is set.'),
  maxTokens: z.number().int().min(1).max(8192).optional(),
  noCache: z.boolean().optional().describe('Skip the response cache lookup (the answer is still recorded and cached).'),
  source: z.enum(askSources).optional(),
  conversationId: conversationIdSchema
    .optional()
    .describe(
      'The conversation this question belongs to, an id the client chooses (the same for every question of one chat; the app lists, reopens and renames conversations by it: conversations/list): with replyTo omitted, the message is read as the reaction to the latest answer of the same conversation (and client) within the follow-up window.',
    ),
  clientId: conversationIdSchema
    .optional()
    .describe(
      "Who is asking (an editor, a user: the OpenAI `user` field): implicit follow-ups are looked for only among the same client's interactions, so concurrent clients never score each other's answers.",
    ),
  replyTo: z
    .string()
    .min(1)
    .max(100)
    .nullable()
    .optional()
    .describe(
      "The interaction this message reacts to, whose reward the message's tone feeds. Omitted: the answer the history ends with (the same client's), else the latest answer of the same conversation within the follow-up window, else none. null: none (the first question of a new conversation).",
    ),
  regenerates: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(
      "The interaction whose answer this request asks for again (a Regenerate button): recorded as that interaction's `regenerated` event, and the repeated question is not read as a follow-up.",
    ),
  adapterChannel: z
    .enum(['stable', 'experimental'])
    .optional()
    .describe(
      'Which version of each matching LoRA adapter answers: `stable` (the default) or the newest `experimental` one, to try it before it is promoted (falls back to stable where there is none).',
    ),
});
export type AskRequest = z.infer<typeof askRequestSchema>;

export const finishReasons = ['stop', 'length', 'repetition'] as const;
export type FinishReason = (typeof finishReasons)[number];

export const retrievalSourceSchema = z.object({ path: z.string(), startLine: z.number(), endLine: z.number(), symbol: z.string().nullable() });
export type RetrievalSource = z.infer<typeof retrievalSourceSchema>;

/** Whether the answer used retrieved project code, why, and which code it was given. */
export const retrievalReportSchema = z.object({ used: z.boolean(), reasons: z.array(z.string()), sources: z.array(retrievalSourceSchema) });
export type RetrievalReport = z.infer<typeof retrievalReportSchema>;

export const timingsSchema = z.object({
  ttftMs: z.number().describe('Time to first token; for a cached answer, time to the cache hit.'),
  totalMs: z.number(),
  tokens: z.number(),
  promptTokens: z.number().describe('Tokens of the whole prompt (system prompt, history, question); 0 for a cached answer.'),
  evaluatedPromptTokens: z
    .number()
    .optional()
    .describe(
      "Of those, the tokens llama.cpp had to evaluate: the rest (the system prompt, an unchanged conversation) was reused from the previous question's KV cache. Absent for a cached answer.",
    ),
  loadMs: z.number().describe('Model download + load time paid by this request (lazy load), 0 when already loaded.'),
});
export type Timings = z.infer<typeof timingsSchema>;

export const askResponseSchema = z.object({
  interactionId: z.string(),
  answer: z.string(),
  cached: z.boolean(),
  cachedFrom: z.string().nullable().describe('The interaction whose answer was reused, when `cached`.'),
  model: z.string(),
  adapters: z.array(adapterUseSchema),
  timings: timingsSchema,
  finishReason: z.enum(finishReasons).describe('"length": stopped at maxTokens; "repetition": stopped because the model was looping.'),
  retrieval: retrievalReportSchema,
  modulator: modulatorReportSchema
    .optional()
    .describe(
      'Which adapters spoke and how loud, whether to retrieve, and why (modulator/README.md); absent on an answer reopened from the history, which keeps only what was said.',
    ),
  conversationId: z.string().nullable(),
  createdAt: z.string(),
});
export type AskResponse = z.infer<typeof askResponseSchema>;

export const chatMethods = {
  'chat/ask': method({
    summary: "Answer a question (with the project's code when it helps), recorded before it is acknowledged; streams progress and tokens.",
    request: askRequestSchema,
    response: askResponseSchema,
    stream: ['progress', 'token'],
  }),
};
