/** Consolidation's settings (learning/README.md): what a run trains, how it is judged, when it starts. Composed with the others by config/config.ts. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** Consolidation (learning/README.md): what a run trains, how it is judged, when it starts. */
export const learningConfigSchema = z.strictObject({
  rank: positiveInt.max(256),
  alpha: z.number().positive().max(4096),
  /** Tokens per training window; llama.cpp needs a power of two up to 512 here. */
  ctx: z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256), z.literal(512)]),
  /** Peak learning rate, reached after `warmupSteps` and decayed linearly to `lrMin` by the last step. */
  lr: z.number().positive().max(0.1),
  lrMin: z.number().min(0).max(0.1),
  warmupSteps: z.number().int().min(0).max(100_000),
  /** Passes over the project's training windows, capped by maxSteps. */
  epochs: z.number().positive().max(100),
  maxSteps: positiveInt.max(1_000_000),
  /** Training stops at the step boundary after this many seconds (time spent paused for answers included); null = no limit. */
  maxTrainSeconds: positiveInt.nullable(),
  /** Trainer threads; null: 1 when the machine is busy, else every core up to 4 (learning/native/README.md). */
  threads: positiveInt.max(64).nullable(),
  /** MAS penalty weight λ on Ω/mean(Ω); 0 turns MAS off. */
  masLambda: z.number().min(0).max(1e6),
  /** Windows of the project's data used to measure Ω after training. */
  importanceWindows: positiveInt.max(10_000),
  /** Replayed texts' share of every batch (0 turns replay off). */
  replayRatio: z.number().min(0).max(0.9),
  /** Past texts kept per adapter for replay. */
  replayCapacity: z.number().int().min(0).max(1_000_000),
  /** Share of a project's files held out to judge it (split by file, never by chunk). */
  heldOutShare: z.number().min(0.05).max(0.5),
  /** Held-out windows scored per project: a sample drawn in proportion from every held-out file (all of them when they fit); bounds the time spent judging. */
  heldOutWindows: positiveInt.max(10_000),
  /** The held-out sample is scored in this many groups of whole files; their paired changes give the noise of a comparison. */
  evalGroups: z.number().int().min(2).max(64),
  /** A project needs at least this many training tokens (estimated) to be learned. */
  minTrainTokens: positiveInt,
  /** Promotion: this project's held-out NLL must drop by more than this (nats) plus `significance` standard errors… */
  minImprovement: z.number().min(0).max(10),
  /** …and no earlier project's may rise by more than this share of it plus `significance` standard errors. */
  forgettingTolerance: z.number().min(0).max(1),
  /** Standard errors a change must clear to count (judge, forgetting, forward transfer). */
  significance: z.number().min(0).max(10),
  /** Indexed projects the adapter has not learned on which a new version is measured against the base (serving skips it where it is significantly worse); 0 = none. */
  transferProjects: z.number().int().min(0).max(100),
  /** Seed of the data order, the replay sample and a fresh adapter's weights; recorded with each run. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  /** Learn a project in the background when the user switches away from it. */
  onSwitch: z.boolean(),
});

export type LearningConfig = z.infer<typeof learningConfigSchema>;

export function learningDefaults(): LearningConfig {
  return {
    rank: 8,
    alpha: 16,
    ctx: 128,
    lr: 2e-4,
    lrMin: 2e-5,
    warmupSteps: 10,
    epochs: 2,
    maxSteps: 400,
    maxTrainSeconds: 1800,
    threads: null,
    masLambda: 100,
    importanceWindows: 16,
    replayRatio: 0.25,
    replayCapacity: 2000,
    heldOutShare: 0.2,
    heldOutWindows: 24,
    evalGroups: 8,
    minTrainTokens: 1024,
    minImprovement: 0.01,
    forgettingTolerance: 0.01,
    significance: 2,
    transferProjects: 1,
    seed: 1,
    onSwitch: true,
  };
}
