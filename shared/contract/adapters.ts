/** The LoRA adapters npllm learned: versions and channels (adapters/). */
import { z } from 'zod';
import { method } from './method.js';

export const adapterChannels = ['experimental', 'stable', 'archived'] as const;
export type AdapterChannelName = (typeof adapterChannels)[number];

/** One registered LoRA adapter version (adapters/README.md). */
export const adapterRecordSchema = z.object({
  name: z.string(),
  version: z.number(),
  channel: z.enum(adapterChannels).describe('At most one version per name is `stable`: the one answers use.'),
  scope: z.string().describe('`user`, or the stack whose projects it serves (`odoo`).'),
  project: z.string().nullable(),
  baseModel: z.string(),
  baseModelFingerprint: z.string(),
  parentVersion: z.number().nullable(),
  trainingRunId: z.string().nullable(),
  path: z.string().describe('The GGUF file, relative to the data folder.'),
  sha256: z.string(),
  bytes: z.number(),
  rank: z.number(),
  alpha: z.number(),
  targets: z.array(z.string()),
  importancePath: z.string().nullable(),
  metrics: z.record(z.string(), z.unknown()),
  reason: z.string().nullable().describe('Why it is in its channel.'),
  createdAt: z.string(),
  promotedAt: z.string().nullable(),
});
export type AdapterRecord = z.infer<typeof adapterRecordSchema>;

export const adapterNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits and . _ - only, at most 64');
export const listAdaptersRequestSchema = z.strictObject({ name: adapterNameSchema.optional() });
export const changeAdapterChannelRequestSchema = z.strictObject({
  name: adapterNameSchema,
  version: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('promote: default the newest experimental version; rollback: the version promoted before the current one.'),
  reason: z.string().min(1).max(1000).optional(),
});

/** The outcome of a promotion or rollback: the new stable version and the one it replaced. */
export const adapterChannelChangeSchema = z.object({ stable: adapterRecordSchema, archived: adapterRecordSchema.nullable() });
export type AdapterChannelChange = z.infer<typeof adapterChannelChangeSchema>;

export const adaptersMethods = {
  'adapters/list': method({
    summary: 'Every registered adapter version, newest first.',
    request: listAdaptersRequestSchema,
    response: z.object({ items: z.array(adapterRecordSchema) }),
  }),
  'adapters/promote': method({
    summary: 'Make a version stable (default: the newest experimental one); the stable one before it is archived.',
    request: changeAdapterChannelRequestSchema,
    response: adapterChannelChangeSchema,
  }),
  'adapters/rollback': method({
    summary: 'Archive the stable version and restore the given one (default: the one promoted before it).',
    request: changeAdapterChannelRequestSchema,
    response: adapterChannelChangeSchema,
  }),
};
