/** Shapes several domains of the contract share. */
import { z } from 'zod';
import type { SerializedError } from '../errors.js';

export const chatMessageSchema = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** A client-chosen id (a new chat's UUID, so its first question already names it; the CLI's terminal session; an OpenAI `user`): printable, short, no spaces. */
export const conversationIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:@/+=-]+$/, 'letters, digits and . _ : @ / + = - only');

export const emptyRequestSchema = z.strictObject({});
export const pathRequestSchema = z.strictObject({ path: z.string().min(1).max(4096) });

export const progressTasks = ['model-download', 'model-load', 'database-open', 'embedder-download', 'project-index', 'learning'] as const;
export type ProgressTask = (typeof progressTasks)[number];

export const progressSchema = z.object({
  task: z.enum(progressTasks),
  label: z.string(),
  fraction: z.number().nullable().describe('0..1 when the total is known.'),
  done: z.boolean(),
  bytes: z
    .object({ done: z.number(), total: z.number() })
    .optional()
    .describe('Downloads: bytes so far (resumed ones included) of the total, for a byte counter beside the bar.'),
  etaSeconds: z.number().nullable().optional().describe("Estimated seconds left, from this run's rate; null until a rate is known."),
});
export type Progress = z.infer<typeof progressSchema>;

/** An NpllmError as it crosses a process boundary (shared/errors.ts). */
export const serializedErrorSchema = z.object({
  name: z.string(),
  code: z.string(),
  message: z.string(),
  fix: z.string().optional().describe('What to do about it.'),
  details: z.record(z.string(), z.unknown()).optional(),
  cause: z
    .object({ name: z.string(), message: z.string() })
    .loose()
    .optional()
    .describe("What caused it: another serialized error, or a plain error's name and message."),
}) as unknown as z.ZodType<SerializedError>;

export const adapterUseSchema = z.object({ name: z.string(), version: z.string(), scale: z.number() });
export type AdapterUse = z.infer<typeof adapterUseSchema>;

/** An adapter version that answers do without, and why (its file is missing, damaged or for another base). */
export const skippedAdapterSchema = z.object({ name: z.string(), version: z.string(), code: z.string(), reason: z.string() });
export type SkippedAdapter = z.infer<typeof skippedAdapterSchema>;
