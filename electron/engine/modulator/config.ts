/** The modulator's settings (modulator/README.md). Composed with the others by config/config.ts. */
import { z } from 'zod';

export const modulatorConfigSchema = z.strictObject({
  /** false: every question gets the prior's plan (the rule-based gate, the fixed scale), nothing is learned. */
  enabled: z.boolean(),
  /** Largest LoRA scale the modulator gives an adapter (s_max); scales are `levels` steps from 0 to it. */
  maxScale: z.number().positive().max(4),
  /** Scale levels from 0 (off) to maxScale; 3 = off, half, full. A change needs a new network (fresh prior). */
  levels: z.number().int().min(2).max(9),
  /** How sure the prior is, as a logit margin: a fresh network follows it with this margin. */
  priorStrength: z.number().positive().max(20),
  /** Candidate adapters per question at most (stack adapters first, then `user`). */
  maxCandidates: z.number().int().min(0).max(8),
  /** The retrieval budget's smaller level, as a share of rag.contextTokens (the other is all of it). */
  smallBudget: z.number().positive().max(1),
  /** An adapter version whose held-out NLL on this project is worse than the base's by more than this share is off in the prior. */
  harmTolerance: z.number().min(0).max(1),
  /** Share of uncached answers that explore one step away from the greedy plan (0 turns exploration off). */
  exploration: z.number().min(0).max(0.5),
  /** Exploration may flip the retrieval decision as well as move a scale. */
  exploreRetrieval: z.boolean(),
  /** Seconds after an answer before its reward counts as settled (follow-ups and dwell arrive later). */
  settleSeconds: z.number().min(0).max(86_400),
  /** Learning rate of online (reward) updates; offline fits use their own. */
  onlineLearningRate: z.number().positive().max(1),
  /** Importance weights are clipped at this value (bounds the variance of one surprising reward). */
  maxImportanceWeight: z.number().min(1).max(100),
  /** Online updates between two candidate versions, each judged for promotion. */
  versionEvery: z.number().int().min(1).max(100_000),
  /** Logged decisions off-policy evaluation needs before a candidate can be promoted on rewards. */
  minLoggedDecisions: z.number().int().min(1).max(1_000_000),
  /** Held-out examples per learned project in an offline fit (each costs one evaluation per mix of the grid). */
  oracleExamples: z.number().int().min(1).max(10_000),
  /** Training steps of an offline fit. */
  oracleSteps: z.number().int().min(1).max(1_000_000),
  /** Refit offline after each consolidation. */
  learnAfterConsolidation: z.boolean(),
});

export type ModulatorConfig = z.infer<typeof modulatorConfigSchema>;

export function modulatorDefaults(): ModulatorConfig {
  return {
    enabled: true,
    maxScale: 1,
    levels: 3,
    priorStrength: 3,
    maxCandidates: 4,
    smallBudget: 0.5,
    harmTolerance: 0.02,
    exploration: 0.1,
    exploreRetrieval: true,
    settleSeconds: 600,
    onlineLearningRate: 5e-3,
    maxImportanceWeight: 5,
    versionEvery: 50,
    minLoggedDecisions: 30,
    oracleExamples: 16,
    oracleSteps: 400,
    learnAfterConsolidation: true,
  };
}
