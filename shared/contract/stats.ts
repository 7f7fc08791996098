/** Behaviour metrics (metrics/). */
import { z } from 'zod';
import { method } from './method.js';

export const statsRequestSchema = z.strictObject({
  project: z.string().min(1).max(4096).optional(),
  days: z.number().int().min(1).max(3650).optional().describe('Days of history in the daily series.'),
});

export const behaviourMetricsSchema = z.object({
  interactions: z.number(),
  acceptanceRate: z.number().nullable().describe('Share of answered interactions copied or inserted.'),
  regenerateRate: z.number().nullable(),
  frustrationRate: z.number().nullable().describe('Share of answers whose follow-up message read as frustrated.'),
  meanReward: z.number().nullable(),
  rewarded: z.number(),
  cacheHitRate: z.number().nullable(),
  retrievalRate: z.number().nullable(),
  latencyMs: z.object({ ttftP50: z.number().nullable(), ttftP95: z.number().nullable(), totalP50: z.number().nullable(), totalP95: z.number().nullable() }),
});
export type BehaviourMetrics = z.infer<typeof behaviourMetricsSchema>;

export const behaviourStatsSchema = z.object({
  overall: behaviourMetricsSchema,
  projects: z.array(behaviourMetricsSchema.extend({ project: z.string().nullable() })),
  daily: z.array(behaviourMetricsSchema.extend({ day: z.string() })),
  /** Latest rewarded interactions, newest first. */
  recentRewards: z.array(
    z.object({
      interactionId: z.string(),
      createdAt: z.string(),
      question: z.string(),
      project: z.string().nullable(),
      reward: z.number(),
      events: z.number(),
    }),
  ),
});
export type BehaviourStats = z.infer<typeof behaviourStatsSchema>;

export const statsMethods = {
  'stats/behaviour': method({
    summary: 'Acceptance, regenerations, frustration, reward, cache hits, retrieval and latency, overall, per project and per day.',
    request: statsRequestSchema,
    response: behaviourStatsSchema,
  }),
};
