/**
 * Consolidation (learning/README.md): one project's data becomes the next version of the adapter
 * its stack shares. Continue from the stable version, anchored by the accumulated MAS importance
 * of every earlier project and rehearsing their texts from the replay reservoir; measure importance
 * on this project; judge held-out NLL on this project and every earlier one; register the result as
 * experimental and promote it only if it earned it. Every heavy step runs in an npllm-train child
 * process, which the caller may pause while a question is answered.
 *
 * `consolidate` reads as the README's steps: the ones before the run's row is written are
 * functions, the ones after are methods of `Consolidation` (run.ts), which owns the row and the run folder.
 *
 * Crash safety: nothing the serving path reads changes until the end. The adapter and Ω are written
 * atomically into a run folder, registered in one transaction, promoted in another; a run killed
 * anywhere leaves a `running` row and a run folder, which the next run (holding the adapter's
 * lock, so the dead run cannot be alive) marks failed and deletes (recovery.ts).
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { AdapterRecord, LearnResult } from '../../../shared/contract.js';
import { LearningError, RequestError } from '../../../shared/errors.js';
import { inspectAdapter } from '../adapters/gguf.js';
import type { AdapterStore } from '../adapters/store.js';
import type { ProfileLookup } from '../project/profile.js';
import type { LearningConfig } from './config.js';
import type { ModelIdentity } from '../model/local-model.js';
import { resolveProjectRoot } from '../project/root.js';
import { estimateTokens, replayCount, shuffled, splitHeldOut } from './dataset.js';
import { freezeHeldOut, frozenHeldOut, seedOf } from './held-out.js';
import { acquireLearningLock } from './lock.js';
import { trainerBinary } from './native-trainer.js';
import { insertTrainingRun, learnedProjects } from './queries.js';
import { cleanUpDeadRuns } from './recovery.js';
import { mixReplay, sampleReplay } from './replay.js';

import { Consolidation, projectTexts } from './run.js';
import { phases, type ConsolidationDeps, type ConsolidationHooks, type Report, type RunData, type RunPlan, type RunSetup } from './run-types.js';

export { heldOutTexts, projectKey } from './held-out.js';
export { describeChange, judge } from './judge.js';
export { recoverInterruptedRuns } from './recovery.js';

export type LearningOptions = LearningConfig;

export type { ConsolidationDeps, ConsolidationHooks } from './run-types.js';

export interface ConsolidationRequest {
  project: string;
  /** Overrides the adapter the project's first confirmed stack names. */
  adapter?: string | undefined;
  /** Overrides learning.seed for this run. */
  seed?: number | undefined;
}

/** Mixed batches of 4 texts: with the default ratio, 1 replayed text for 3 of this project. */
const replayBatch = 4;

/** Trainer threads: every core up to 4 on a quiet machine, 1 on a busy one (2 threads then spend their time in barriers). */
export function learningThreads(configured: number | null, cores = cpus().length, load = loadavg()[0] ?? 0): number {
  if (configured) return configured;
  return load > cores - 0.5 ? 1 : Math.max(1, Math.min(cores, 4));
}

export async function consolidate(deps: ConsolidationDeps, request: ConsolidationRequest, hooks: ConsolidationHooks = {}): Promise<LearnResult> {
  const started = Date.now();
  const { project, name, scope } = await chooseAdapter(deps.profiles, request);
  const report = reporter(hooks, name);
  report('prepare', `preparing ${project}`, 0);
  const lock = await acquireLearningLock(join(deps.home, 'learning', name, 'lock'), `Adapter ${name}`);
  try {
    await cleanUpDeadRuns(deps.db, deps.adapters, deps.home, name);
    const seed = request.seed ?? deps.learning.seed;
    const setup: RunSetup = { deps, hooks, report, started, project, name, scope, seed, ...(await startingPoint(deps, name)) };
    const plan = await planRun(setup, await gatherData(setup));
    return await new Consolidation(setup, plan).run();
  } finally {
    await lock.release();
  }
}

function reporter(hooks: ConsolidationHooks, name: string): Report {
  return (phase, label, within) => {
    const [from, to] = phases[phase];
    hooks.onProgress?.({ task: 'learning', label: `${name}: ${label}`, fraction: from + (to - from) * (within ?? 0), done: false });
  };
}

/** Step 1, Adapter: named by request, or after the first stack the user confirmed. */
async function chooseAdapter(profiles: ProfileLookup, request: ConsolidationRequest): Promise<{ project: string; name: string; scope: string }> {
  const project = await resolveProjectRoot(request.project);
  const profile = await profiles.profileOf(project);
  const requested = request.adapter;
  if (requested)
    return { project, name: requested, scope: requested === 'user' ? 'user' : (profile?.stacks.find((stack) => stack.name === requested)?.name ?? requested) };
  const first = profile?.stacks[0];
  if (!first) {
    throw new RequestError('REQUEST_INVALID', `${project} has no confirmed context, so npllm does not know which adapter it should teach.`, {
      fix: `Confirm its stacks first (npllm context confirm ${project}), or name an adapter: npllm learn --project ${project} --adapter user.`,
    });
  }
  return { project, name: first.name, scope: first.name };
}

/** The trainer, the served base and the stable version the run continues from. */
async function startingPoint(deps: ConsolidationDeps, name: string): Promise<Pick<RunSetup, 'binary' | 'base' | 'parent' | 'threads'>> {
  const binary = deps.trainer ?? trainerBinary();
  const base = await deps.base();
  const parent = await usableParent(deps.adapters, name, base);
  return { binary, base, parent, threads: learningThreads(deps.learning.threads) };
}

/** The stable version to continue from, if it was trained on this base and its file is intact. */
async function usableParent(store: AdapterStore, name: string, base: ModelIdentity): Promise<AdapterRecord | null> {
  const stable = await store.stable(name);
  if (!stable || stable.baseModelFingerprint !== base.fingerprint) return null;
  // A damaged file would be trained on (NaN weights end in a diverged run) and judged as the baseline.
  await inspectAdapter(store.fileOf(stable), { sha256: stable.sha256 });
  return stable;
}

/** Steps 2–3, Data and Held-out split: refused before anything is written when there is too little to learn and judge. */
async function gatherData({ deps, name, project }: RunSetup): Promise<RunData> {
  const { learning } = deps;
  const texts = await projectTexts(deps.db, project, deps.acceptThreshold);
  // Once a project has been judged, its held-out files stay held out: training on them later would leak into the frozen set.
  const frozen = await frozenHeldOut(deps.home, name, project);
  const { train, heldOut } = frozen
    ? { train: texts.filter((text) => !frozen.units.has(text.unit)), heldOut: texts.filter((text) => frozen.units.has(text.unit)) }
    : splitHeldOut(project, texts, learning.heldOutShare);
  const trainTokens = train.reduce((sum, text) => sum + text.tokens, 0);
  if ((heldOut.length === 0 && !frozen) || trainTokens < learning.minTrainTokens) {
    throw new LearningError(
      'LEARNING_NO_DATA',
      `${project} has too little to learn from: ${train.length} training text(s), about ${trainTokens} tokens, ${heldOut.length} held out (needs ${learning.minTrainTokens} tokens and two files).`,
      {
        fix: `Index the project first (npllm index ${project}), or lower learning.minTrainTokens.`,
        details: { trainTexts: train.length, trainTokens, heldOutTexts: heldOut.length },
      },
    );
  }
  return { train, heldOut, frozen };
}

/** The training stream with replay, the step count and the MAS weight, recorded in the run's `running` row. */
async function planRun(setup: RunSetup, data: RunData): Promise<RunPlan> {
  const {
    deps: { db, home, learning },
    name,
    project,
    seed,
    parent,
    base,
  } = setup;
  const runId = randomUUID();
  const runDir = join(home, 'learning', 'runs', runId);
  const heldOutSet = data.frozen ?? (await freezeHeldOut(home, name, project, data.heldOut));
  const earlier = (await learnedProjects(db, name)).filter((other) => other !== project);
  const replayed = await replayTexts(setup, data.train.length, earlier.length > 0);
  const stream = mixReplay(
    shuffled(data.train, seedOf(`${seed}:${project}`)).map((text) => text.text),
    replayed,
    { batchSize: replayBatch, ratio: learning.replayRatio },
  );
  const streamTokens = stream.reduce((sum, text) => sum + estimateTokens(text), 0);
  const steps = Math.max(1, Math.min(learning.maxSteps, Math.ceil((learning.epochs * streamTokens) / learning.ctx)));
  const masLambda = parent?.importancePath && learning.masLambda > 0 ? learning.masLambda : 0;
  const settings = {
    rank: learning.rank,
    alpha: learning.alpha,
    ctx: learning.ctx,
    lr: learning.lr,
    lrMin: learning.lrMin,
    warmupSteps: learning.warmupSteps,
    steps,
    threads: setup.threads,
    masLambda,
    replayRatio: learning.replayRatio,
    seed,
    heldOut: {
      windows: learning.heldOutWindows,
      groups: learning.evalGroups,
      significance: learning.significance,
      minImprovement: learning.minImprovement,
      forgettingTolerance: learning.forgettingTolerance,
    },
    parentVersion: parent?.version ?? null,
    baseModel: base.name,
    baseModelFingerprint: base.fingerprint,
    trainer: setup.binary,
  };
  await insertTrainingRun(db, { id: runId, adapterName: name, project, status: 'running', settings, lossCurve: [] });
  return { ...data, runId, runDir, heldOutSet, earlier, replayed, stream, steps, masLambda };
}

/** Earlier projects' texts from the reservoir, in proportion to this project's. */
async function replayTexts({ deps: { db, learning }, name, project, seed }: RunSetup, trainTexts: number, hasEarlier: boolean): Promise<string[]> {
  if (!(learning.replayRatio > 0 && hasEarlier)) return [];
  const rows = await sampleReplay(db, {
    adapterName: name,
    excludeProject: project,
    count: replayCount(trainTexts, learning.replayRatio, replayBatch),
    seed: seedOf(`${seed}:replay:${project}`),
  });
  return rows.map((row) => row.text);
}
