/** A project's index for retrieval (rag/). */
import { z } from 'zod';
import { pathRequestSchema } from './common.js';
import { method } from './method.js';

export const indexProjectRequestSchema = pathRequestSchema;
export const projectStatusRequestSchema = pathRequestSchema;

export const indexResultSchema = z.object({
  root: z.string(),
  projectId: z.string(),
  files: z.number().describe('Files and chunks in the index after the run.'),
  chunks: z.number(),
  changedFiles: z.number(),
  unchangedFiles: z.number(),
  removedFiles: z.number(),
  embeddedChunks: z.number(),
  skipped: z
    .record(z.string(), z.number())
    .describe('Files left out, by reason (ignored, binary, too-large, symlink-loop, outside-project, unreadable, secret, vanished).'),
  secretsSkipped: z.number(),
  seconds: z.number(),
});
export type IndexResult = z.infer<typeof indexResultSchema>;

export const projectStatusSchema = z.object({
  root: z.string(),
  indexed: z.boolean(),
  files: z.number(),
  chunks: z.number(),
  lastIndexedAt: z.string().nullable(),
});
export type ProjectStatus = z.infer<typeof projectStatusSchema>;

export const ragMethods = {
  'rag/index': method({
    summary: 'Index a project folder (again: only what changed); streams progress.',
    request: indexProjectRequestSchema,
    response: indexResultSchema,
    stream: ['progress'],
  }),
  'rag/status': method({ summary: "A project's index: files, chunks, when last indexed.", request: projectStatusRequestSchema, response: projectStatusSchema }),
};
