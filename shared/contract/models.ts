/** The model catalogue (model/). */
import { z } from 'zod';
import { emptyRequestSchema } from './common.js';
import { method } from './method.js';

/** A model of the catalogue (`npllm models list`, the settings screen). */
export const catalogueModelSchema = z.object({
  id: z.string(),
  name: z.string(),
  sizeBytes: z.number().describe('Size of the model file.'),
  licence: z.string(),
  installed: z.boolean().describe('Its verified file is in the models folder.'),
  default: z.boolean().describe('The model this configuration answers with when no other is given (`model.name`).'),
  role: z.enum(['default', 'lite', 'tiny']),
  description: z.string(),
});
export type CatalogueModel = z.infer<typeof catalogueModelSchema>;

export const catalogueIdSchema = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'a catalogue id such as coder-1.5b');
export const pullModelRequestSchema = z.strictObject({ id: catalogueIdSchema });

export const pulledModelSchema = z.object({ id: z.string(), path: z.string(), sizeBytes: z.number() });
export type PulledModel = z.infer<typeof pulledModelSchema>;

export const modelsMethods = {
  'models/list': method({
    summary: 'The catalogue: size, licence, whether downloaded, which is the default.',
    request: emptyRequestSchema,
    response: z.object({ items: z.array(catalogueModelSchema) }),
  }),
  'models/pull': method({
    summary: 'Download a catalogue model (checksummed; an interrupted download resumes); streams progress in bytes and time left.',
    request: pullModelRequestSchema,
    response: pulledModelSchema,
    stream: ['progress'],
  }),
};
