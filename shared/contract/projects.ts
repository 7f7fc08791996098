/** The projects npllm knows: confirmed, indexed, asked about or learned (context/, rag/, learning/). */
import { z } from 'zod';
import { emptyRequestSchema, progressSchema } from './common.js';
import { detectedStackSchema } from './context.js';
import { method } from './method.js';

export const projectSummarySchema = z.object({
  root: z.string().describe('Canonical absolute path of the folder.'),
  name: z.string().describe("The folder's name."),
  stacks: z.array(detectedStackSchema).describe('The latest confirmed stacks; empty until the context is confirmed.'),
  confirmed: z.boolean(),
  index: z.object({
    files: z.number(),
    chunks: z.number(),
    lastIndexedAt: z.string().nullable().describe('When the last complete indexing ended; null: never finished.'),
  }),
  learning: z.object({
    state: z.enum(['never', 'learned', 'queued', 'running']).describe('`running`/`queued`: the background learner is on it or will be.'),
    lastRunAt: z.string().nullable(),
    lastOutcome: z.string().nullable().describe('How its latest consolidation ended: promoted, kept experimental, failed…'),
    progress: progressSchema.nullable(),
  }),
  questions: z.number(),
  lastUsedAt: z.string().nullable().describe('Its latest question, confirmation or indexing.'),
});
export type ProjectSummary = z.infer<typeof projectSummarySchema>;

export const projectsMethods = {
  'projects/list': method({
    summary: 'Every known project with its stacks, index and learning state, the latest used first.',
    request: emptyRequestSchema,
    response: z.object({ items: z.array(projectSummarySchema) }),
  }),
};
