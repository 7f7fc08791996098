/** What a consolidation run is given and decides before it starts (consolidate.ts), and what its steps hand on (run.ts). */
import type { AdapterRecord, Progress } from '../../../shared/contract.js';
import type { AdapterStore } from '../adapters/store.js';
import type { Db } from '../db/client.js';
import type { ModelIdentity } from '../model/local-model.js';
import type { ProfileLookup } from '../project/profile.js';
import type { LearningConfig } from './config.js';
import type { LearningText } from './dataset.js';
import type { FrozenHeldOut } from './held-out.js';
import type { TrainerEvent, TrainerProcess } from './native-trainer.js';

export interface ConsolidationDeps {
  db: Db;
  home: string;
  learning: LearningConfig;
  /** Answers rewarded at least this much are training targets (feedback.acceptThreshold). */
  acceptThreshold: number;
  adapters: AdapterStore;
  /** The project's confirmed profile names its adapter (context/ implements it). */
  profiles: ProfileLookup;
  /** The served base model, checked and fingerprinted. */
  base: () => Promise<ModelIdentity>;
  /** npllm-train; default: the one `npm run build:trainer` built. */
  trainer?: string;
}

export interface ConsolidationHooks {
  onProgress?: ((progress: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Called with every trainer process while it runs (the learner pauses them during questions); returns the release. */
  onTrainer?: ((process: TrainerProcess) => () => void) | undefined;
}

/** The phases' shares of a run's progress bar. */
export const phases = {
  prepare: [0, 0.03],
  before: [0.03, 0.12],
  train: [0.12, 0.75],
  importance: [0.75, 0.85],
  after: [0.85, 0.95],
  transfer: [0.95, 1],
} as const;

export type Report = (phase: keyof typeof phases, label: string, within: number | null) => void;
export type TrainerDone = Extract<TrainerEvent, { type: 'done' }>;

/** What a run is about and runs with, fixed once the adapter's lock is held. */
export interface RunSetup {
  deps: ConsolidationDeps;
  hooks: ConsolidationHooks;
  report: Report;
  started: number;
  project: string;
  name: string;
  scope: string;
  seed: number;
  binary: string;
  base: ModelIdentity;
  parent: AdapterRecord | null;
  threads: number;
}

export interface RunData {
  train: LearningText[];
  heldOut: LearningText[];
  frozen: FrozenHeldOut | null;
}

/** Everything decided before the run's row is written (the row records it as settings). */
export interface RunPlan extends RunData {
  runId: string;
  runDir: string;
  heldOutSet: FrozenHeldOut;
  earlier: string[];
  replayed: string[];
  stream: string[];
  steps: number;
  masLambda: number;
}
