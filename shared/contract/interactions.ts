/** Every question and answer, as recorded (data-collection/). */
import { z } from 'zod';
import { adapterUseSchema, chatMessageSchema, serializedErrorSchema } from './common.js';
import { retrievalReportSchema, timingsSchema } from './chat.js';
import { method } from './method.js';

/** `interrupted`: the process died while answering (found at the next start); the answer is what was streamed until then. */
export const interactionStatuses = ['pending', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type InteractionStatus = (typeof interactionStatuses)[number];

export const interactionRecordSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  source: z.string(),
  conversationId: z.string().nullable(),
  clientId: z.string().nullable(),
  question: z.string(),
  history: z.array(chatMessageSchema),
  project: z.string().nullable(),
  answer: z.string().nullable(),
  status: z.enum(interactionStatuses),
  error: serializedErrorSchema.nullable(),
  cached: z.boolean(),
  cachedFrom: z.string().nullable(),
  model: z.string(),
  modelFingerprint: z.string(),
  adapters: z.array(adapterUseSchema),
  timings: timingsSchema.nullable(),
  retrieval: retrievalReportSchema.nullable(),
});
export type InteractionRecord = z.infer<typeof interactionRecordSchema>;

export const getInteractionRequestSchema = z.strictObject({ id: z.string().min(1).max(100) });
export const listInteractionsRequestSchema = z.strictObject({ limit: z.number().int().min(1).max(500).optional(), project: z.string().optional() });

export const interactionsMethods = {
  'interactions/get': method({ summary: 'One recorded interaction.', request: getInteractionRequestSchema, response: interactionRecordSchema }),
  'interactions/list': method({
    summary: 'The latest interactions, newest first.',
    request: listInteractionsRequestSchema,
    response: z.object({ items: z.array(interactionRecordSchema) }),
  }),
};
