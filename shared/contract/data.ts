/** The training data npllm collects (data-collection/). */
import { z } from 'zod';
import { method } from './method.js';

export const exportDataRequestSchema = z.strictObject({
  project: z.string().min(1).max(4096).describe('The project folder whose examples are exported.'),
  out: z.string().min(1).max(4096).optional().describe('Where to write the JSONL: the command line only; the API writes under <data folder>/exports/.'),
});
export type ExportDataRequest = z.infer<typeof exportDataRequestSchema>;

export const dataExportSchema = z.object({
  path: z.string().describe('The JSONL file written (atomically).'),
  examples: z.number(),
  byKind: z.object({ accepted: z.number(), correction: z.number(), code: z.number() }),
  duplicatesDropped: z.number(),
  secretsScrubbed: z.number(),
});
export type DataExport = z.infer<typeof dataExportSchema>;

export const dataMethods = {
  'data/export': method({
    summary: "Write a project's training examples (accepted answers, corrections, code; secrets scrubbed) as JSONL; returns the file and the counts.",
    request: exportDataRequestSchema,
    response: dataExportSchema,
  }),
};
