/** Feedback's settings: follow-ups, dwell and the reward formula (feedback/README.md). Composed with the others by config/config.ts. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const feedbackConfigSchema = z.strictObject({
  /** A message within this many seconds of the previous answer (same source and project) is its follow-up. */
  followUpWindowSeconds: positiveInt.max(86_400),
  /** Dwell times above this are rejected as absurd (a tab left open overnight says nothing). */
  maxDwellSeconds: positiveInt,
  /** Dwell reaches its full weight here. */
  dwellSaturationSeconds: positiveInt,
  /** Weights of the reward formula (feedback/README.md): reward = tanh(Σ weight × signal). */
  weights: z.strictObject({
    copied: z.number().min(0).max(5),
    inserted: z.number().min(0).max(5),
    edited: z.number().min(0).max(5),
    regenerated: z.number().min(0).max(5),
    corrected: z.number().min(0).max(5),
    dwell: z.number().min(0).max(5),
    ignored: z.number().min(0).max(5),
    emotion: z.number().min(0).max(5),
  }),
  /** Answers rewarded at least this much become training targets. */
  acceptThreshold: z.number().min(-1).max(1),
});

export type FeedbackConfig = z.infer<typeof feedbackConfigSchema>;

export function feedbackDefaults(): FeedbackConfig {
  return {
    followUpWindowSeconds: 600,
    maxDwellSeconds: 86_400,
    dwellSaturationSeconds: 60,
    weights: { copied: 0.4, inserted: 0.8, edited: 0.8, regenerated: 0.8, corrected: 0.6, dwell: 0.2, ignored: 0.4, emotion: 0.9 },
    acceptThreshold: 0.3,
  };
}
