/** The modulator: which adapters speak and how loud, and whether to retrieve, per question (modulator/). */
import { z } from 'zod';
import { emptyRequestSchema } from './common.js';
import { method } from './method.js';

export const modulatorChannels = ['experimental', 'stable', 'archived'] as const;
export type ModulatorChannel = (typeof modulatorChannels)[number];

/** One decision as levels: a scale level per candidate adapter, retrieve or not, a budget level. */
export const modulatorActionSchema = z.object({ levels: z.array(z.number()), retrieve: z.boolean(), budget: z.number() });
export type ModulatorAction = z.infer<typeof modulatorActionSchema>;

/** What the modulator decided for one answer (every `chat/ask` response and `npllm --query --json` carry it). */
export const modulatorReportSchema = z.object({
  version: z.number().describe('The modulator version that decided; 0 = the prior (the rule-based gate and the fixed scale).'),
  retrieve: z.boolean(),
  scales: z.record(z.string(), z.number()).describe('LoRA scale per candidate adapter name; 0 = off.'),
  reasons: z.array(z.string()),
  source: z.enum(['network', 'prior']).describe('"prior": the network was not used (disabled, missing, unreadable or failing) and the rules decided.'),
  explored: z.boolean().describe('This answer tried one step away from the greedy plan (never for a cached answer).'),
  propensity: z.number().describe('Probability of this action under the behaviour policy (for off-policy evaluation).'),
});
export type ModulatorReport = z.infer<typeof modulatorReportSchema>;

export const modulatorMetricsSchema = z
  .object({
    oracleGap: z.number().nullable().optional().describe('Mean relative NLL gap to the oracle mix on held-out examples; null before any evaluation.'),
    withinTwoPercent: z.number().nullable().optional(),
    ips: z.number().nullable().optional().describe('Inverse-propensity estimate of the mean reward on logged decisions.'),
    dr: z.number().nullable().optional().describe('Doubly robust estimate of the mean reward on logged decisions.'),
    logged: z.number().optional(),
    examples: z.number().optional(),
    awaiting: z.boolean().optional().describe('Kept experimental only for want of logged answers: judged again once there are enough.'),
  })
  .loose();
export type ModulatorMetrics = z.infer<typeof modulatorMetricsSchema>;

export const modulatorVersionSchema = z.object({
  version: z.number(),
  channel: z.enum(modulatorChannels),
  origin: z.enum(['offline', 'online']),
  parentVersion: z.number().nullable(),
  params: z.number(),
  metrics: modulatorMetricsSchema,
  reason: z.string().nullable(),
  createdAt: z.string(),
  promotedAt: z.string().nullable(),
});
export type ModulatorVersion = z.infer<typeof modulatorVersionSchema>;

export const modulatorDecisionRecordSchema = z.object({
  interactionId: z.string(),
  createdAt: z.string(),
  question: z.string(),
  project: z.string().nullable(),
  version: z.number(),
  source: z.enum(['network', 'prior']),
  scales: z.record(z.string(), z.number()),
  retrieve: z.boolean(),
  explored: z.boolean(),
  cached: z.boolean(),
  reward: z.number().nullable(),
});
export type ModulatorDecisionRecord = z.infer<typeof modulatorDecisionRecordSchema>;

export const modulatorStatusSchema = z.object({
  enabled: z.boolean(),
  version: z.number().describe('The version that plans answers; 0 = the prior.'),
  channel: z.enum(['stable', 'prior']),
  params: z.number().describe('Trainable parameters of the network.'),
  oracleGap: z.number().nullable().describe("The serving version's mean relative NLL gap to the oracle mix; null before any evaluation."),
  levels: z.array(z.number()).describe('The scales an adapter can get.'),
  exploration: z.number(),
  fallback: z.string().nullable().describe('Why answers use the prior instead of the stable version, when they do.'),
  online: z.object({ pending: z.number(), learned: z.number(), updates: z.number(), lastUpdateAt: z.string().nullable() }),
  versions: z.array(modulatorVersionSchema).describe('Newest first.'),
  recent: z.array(modulatorDecisionRecordSchema).describe('Latest decisions, newest first.'),
});
export type ModulatorStatus = z.infer<typeof modulatorStatusSchema>;

export const modulatorLearnRequestSchema = z.strictObject({
  project: z.string().min(1).max(4096).optional().describe("Only this learned project's held-out examples (default: every learned project)."),
  steps: z.number().int().min(1).max(1_000_000).optional(),
});

export const modulatorLearnResultSchema = z.object({
  version: z.number().nullable().describe('The version registered; null when there was nothing to fit.'),
  channel: z.enum(modulatorChannels).nullable(),
  promoted: z.boolean(),
  reason: z.string(),
  examples: z.number(),
  before: modulatorMetricsSchema.describe('The stable version (or the prior) on the same examples and logs.'),
  after: modulatorMetricsSchema,
});
export type ModulatorLearnResult = z.infer<typeof modulatorLearnResultSchema>;

export const modulatorMethods = {
  'modulator/status': method({
    summary: 'The modulator: serving version, parameters, oracle gap, versions and recent decisions.',
    request: emptyRequestSchema,
    response: modulatorStatusSchema,
  }),
  'modulator/learn': method({
    summary: 'Fit the modulator offline to the oracle mixes of held-out examples, judge it against the stable version, promote it if better; streams progress.',
    request: modulatorLearnRequestSchema,
    response: modulatorLearnResultSchema,
    stream: ['progress'],
  }),
};
