/** Consolidation and its history (learning/, metrics/learning). */
import { z } from 'zod';
import { adapterChannels, adapterNameSchema } from './adapters.js';
import { emptyRequestSchema, progressSchema, serializedErrorSchema } from './common.js';
import { method } from './method.js';

export const learnRequestSchema = z.strictObject({
  project: z.string().min(1).max(4096).describe('The project folder to consolidate.'),
  /** Train this adapter instead of the one the project's first confirmed stack names (`user` for a per-user adapter). */
  adapter: adapterNameSchema.optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional()
    .describe('Seed of the data order, replay sample and fresh adapter weights (default learning.seed), recorded with the run.'),
});
export type LearnRequest = z.infer<typeof learnRequestSchema>;

export const learnRunStatsSchema = z.object({
  trainTexts: z.number(),
  replayTexts: z.number(),
  heldOutTexts: z.number(),
  steps: z.number(),
  trainTokens: z.number(),
  tokensPerSecond: z.number(),
  durationMs: z.number(),
  masLambda: z.number(),
  seed: z.number().optional().describe("The run's seed (learning.seed or the request's)."),
});
export type LearnRunStats = z.infer<typeof learnRunStatsSchema>;

/** One paired comparison on a project's held-out sample (shared/learning-metrics.ts `pairedChange`). */
export const learningTestSchema = z.object({
  before: z.number(),
  after: z.number(),
  change: z.number().describe('after − before, nats per token; below 0 is better.'),
  standardError: z.number(),
  groups: z.number(),
  tokens: z.number(),
  significant: z.boolean().describe('This project gained beyond noise, or (earlier and unlearned projects) worsened beyond tolerance and noise.'),
});
export type LearningTest = z.infer<typeof learningTestSchema>;

/** What one consolidation did (learning/README.md); `npllm learn --json` prints it. */
export const learnResultSchema = z.object({
  runId: z.string(),
  adapter: z.string(),
  version: z.number().nullable().describe('The version it registered; null when it stopped before registering one.'),
  channel: z.enum(['stable', 'experimental']).nullable(),
  nllBefore: z.record(z.string(), z.number()).describe('Held-out NLL per project (this one and every earlier one the adapter learned) before and after.'),
  nllAfter: z.record(z.string(), z.number()),
  promoted: z.boolean(),
  reason: z.string(),
  parentVersion: z.number().nullable(),
  lossCurve: z.array(z.number()),
  stats: learnRunStatsSchema,
  tests: z.record(z.string(), learningTestSchema).optional().describe("The judge's noise-aware test per judged project (this one and every earlier one)."),
  transfer: z
    .record(z.string(), learningTestSchema)
    .optional()
    .describe('The new version against the base on indexed projects the adapter has not learned (forward transfer).'),
});
export type LearnResult = z.infer<typeof learnResultSchema>;

export const learningRunStatuses = ['running', 'completed', 'failed', 'cancelled'] as const;
export type LearningRunStatus = (typeof learningRunStatuses)[number];

export const learningRunRecordSchema = z.object({
  id: z.string(),
  adapter: z.string(),
  project: z.string(),
  status: z.enum(learningRunStatuses),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  version: z.number().nullable(),
  promoted: z.boolean().nullable(),
  reason: z.string().nullable(),
  lossCurve: z.array(z.number()),
  nllBefore: z.record(z.string(), z.number()).nullable(),
  nllAfter: z.record(z.string(), z.number()).nullable(),
  importanceStats: z.record(z.string(), z.number()).nullable(),
  stats: z.record(z.string(), z.number()).nullable(),
  error: serializedErrorSchema.nullable(),
});
export type LearningRunRecord = z.infer<typeof learningRunRecordSchema>;

/** The background learner: what it is doing and what waits. */
export const learnerStatusSchema = z.object({
  state: z.enum(['idle', 'running', 'paused']),
  current: z.object({ project: z.string(), adapter: z.string().nullable(), runId: z.string().nullable(), progress: progressSchema.nullable() }).nullable(),
  queue: z.array(z.string()),
  last: learnResultSchema.nullable(),
  lastError: serializedErrorSchema.nullable(),
});
export type LearnerStatus = z.infer<typeof learnerStatusSchema>;

export const learningStatsRequestSchema = z.strictObject({
  adapter: adapterNameSchema.optional(),
  runs: z.number().int().min(1).max(500).optional().describe('Most recent runs listed per adapter.'),
});

/**
 * One adapter's learning history: the forgetting matrix (held-out NLL of each version, row, on each
 * project, column; row version 0 = the base model), the gain over the base, and backward transfer
 * (Lopez-Paz & Ranzato, 2017). Computed by `learningMatrix` in shared/learning-metrics.ts.
 */
export const adapterLearningStatsSchema = z.object({
  adapter: z.string(),
  projects: z.array(z.string()).describe('Columns: projects in the order the adapter first learned them, then projects only evaluated.'),
  versions: z
    .array(z.object({ version: z.number(), channel: z.enum([...adapterChannels, 'base']), project: z.string().nullable(), createdAt: z.string().nullable() }))
    .describe('Rows: 0 (base) then every registered or evaluated version, ascending; `project` = the one it learned.'),
  nll: z.array(z.array(z.number().nullable())).describe('nll[row][column]: held-out NLL per token; null = not measured, or measured on an older held-out set.'),
  gain: z.array(z.array(z.number().nullable())).describe("(base − nll) / base per cell: the share of the base's NLL the version removed."),
  bwt: z
    .number()
    .nullable()
    .describe(
      'Mean over the projects its ancestors learned of gain(bwtVersion, p) − gain(ancestor that learned p, p); < 0 is forgetting. null with fewer than two learned projects or no measured pair.',
    ),
  bwtVersion: z.number().nullable().describe('The version BWT is measured at: the stable one, else the newest that learned a project.'),
  fwt: z
    .number()
    .nullable()
    .optional()
    .describe(
      'Forward transfer along the same ancestry: mean over the projects it learned (the first excepted) of the gain the version before had on p, before learning it. null when unmeasured.',
    ),
  runs: z.array(learningRunRecordSchema).describe('Newest first.'),
});
export type AdapterLearningStats = z.infer<typeof adapterLearningStatsSchema>;

export const learningStatsSchema = z.object({ adapters: z.array(adapterLearningStatsSchema) });
export type LearningStats = z.infer<typeof learningStatsSchema>;

export const learningMethods = {
  'learning/consolidate': method({
    summary: "Consolidate a project into its stack's adapter: train, judge on this and earlier projects, promote if earned; streams progress.",
    request: learnRequestSchema,
    response: learnResultSchema,
    stream: ['progress'],
  }),
  'learning/status': method({ summary: 'What the background learner is doing and what waits.', request: emptyRequestSchema, response: learnerStatusSchema }),
  'stats/learning': method({
    summary: 'Per adapter: held-out NLL of every version on every project, gain over the base, backward transfer, latest runs.',
    request: learningStatsRequestSchema,
    response: learningStatsSchema,
  }),
};
