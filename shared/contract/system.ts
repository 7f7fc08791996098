/** The engine's own state. */
import { z } from 'zod';
import { adapterUseSchema, emptyRequestSchema, serializedErrorSchema, skippedAdapterSchema } from './common.js';
import { method } from './method.js';

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptimeSeconds: z.number(),
  model: z.object({ name: z.string(), loaded: z.boolean(), threads: z.number(), contextSize: z.number() }),
  database: z.object({ kind: z.enum(['pglite', 'postgres']), ok: z.boolean(), error: serializedErrorSchema.nullable() }),
  learner: z
    .enum(['idle', 'running', 'paused'])
    .optional()
    .describe('The background learner: training (running), stopped while a question is answered (paused), or idle.'),
  adapters: z
    .object({ applied: z.array(adapterUseSchema), skipped: z.array(skippedAdapterSchema) })
    .optional()
    .describe('LoRA adapters on the loaded model, and those left out of answers because they are broken or foreign.'),
});
export type Health = z.infer<typeof healthSchema>;

export const systemMethods = {
  'system/health': method({ summary: 'Model, database and adapter status (never loads the model).', request: emptyRequestSchema, response: healthSchema }),
  'system/reload': method({
    summary: 'Close the engine and open it again with the saved settings (a new model, another database); requests meanwhile wait for it.',
    request: emptyRequestSchema,
    response: z.object({ reloading: z.boolean() }),
  }),
};
