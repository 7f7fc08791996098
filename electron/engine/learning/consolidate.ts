/**
 * Consolidation (learning/README.md): one project's data becomes the next version of the adapter
 * its stack shares. Continue from the stable version, anchored by the accumulated MAS importance
 * of every earlier project and rehearsing their texts from the replay reservoir; measure importance
 * on this project; judge held-out NLL on this project and every earlier one; register the result as
 * experimental and promote it only if it earned it. Every heavy step runs in an npllm-train child
 * process, which the caller may pause while a question is answered.
 *
 * Crash safety: nothing the serving path reads changes until the end. The adapter and Ω are written
 * atomically into a run folder, registered in one transaction, promoted in another; a run killed
 * anywhere leaves a `running` row and a run folder, which the next run (holding the adapter's
 * lock, so the dead run cannot be alive) marks failed and deletes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { LearningTest, LearnResult, Progress } from '../../../shared/contract.js';
import { cancelled, LearningError, RequestError, toNpllmError } from '../../../shared/errors.js';
import { pairedChange, significantGain, significantWorsening, type GroupScore, type PairedChange } from '../../../shared/learning-metrics.js';
import { inspectAdapter, readBaseModelShapes } from '../adapters/gguf.js';
import type { AdapterStore } from '../adapters/store.js';
import { buildTrainingData, writeJsonl } from '../data-collection/training-data.js';
import type { Db } from '../db/client.js';
import type { ProfileLookup } from '../project/profile.js';
import type { LearningConfig } from './config.js';
import { sha256File } from '../base/files.js';
import type { ModelIdentity } from '../model/local-model.js';
import { resolveProjectRoot } from '../project/root.js';
import { estimateTokens, renderExample, replayCount, replayWeight, shuffled, splitHeldOut, type LearningText } from './dataset.js';
import { freezeHeldOut, frozenHeldOut, HeldOutScorer, seedOf, type FrozenHeldOut, type PreparedSample, type ScoredModel } from './held-out.js';
import { accumulateImportance, importanceStats, readImportance, writeImportance, type ImportanceStats } from './importance.js';
import { acquireLearningLock } from './lock.js';
import { TrainerProcess, trainerBinary, type TrainerEvent } from './native-trainer.js';
import { adaptersWithRunningRuns, indexedProjects, insertTrainingRun, learnedProjects, runningTrainingRuns, updateTrainingRun, upsertEvaluations } from './queries.js';
import { addToReservoir, mixReplay, sampleReplay } from './replay.js';

export { projectKey } from './held-out.js';

export type LearningOptions = LearningConfig;

export interface ConsolidationDeps {
  db: Db;
  home: string;
  learning: LearningOptions;
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

export interface ConsolidationRequest {
  project: string;
  /** Overrides the adapter the project's first confirmed stack names. */
  adapter?: string | undefined;
  /** Overrides learning.seed for this run. */
  seed?: number | undefined;
}

/** Mixed batches of 4 texts: with the default ratio, 1 replayed text for 3 of this project. */
const replayBatch = 4;

/** The phases' shares of a run's progress bar. */
const phases = { prepare: [0, 0.03], before: [0.03, 0.12], train: [0.12, 0.75], importance: [0.75, 0.85], after: [0.85, 0.95], transfer: [0.95, 1] } as const;

/** Trainer threads: every core up to 4 on a quiet machine, 1 on a busy one (2 threads then spend their time in barriers). */
export function learningThreads(configured: number | null, cores = cpus().length, load = loadavg()[0] ?? 0): number {
  if (configured) return configured;
  return load > cores - 0.5 ? 1 : Math.max(1, Math.min(cores, 4));
}


export async function consolidate(deps: ConsolidationDeps, request: ConsolidationRequest, hooks: ConsolidationHooks = {}): Promise<LearnResult> {
  const started = Date.now();
  const { db, learning } = deps;
  const project = await resolveProjectRoot(request.project);
  const { name, scope } = await adapterFor(deps.profiles, project, request.adapter);
  const seed = request.seed ?? learning.seed;
  const report = (phase: keyof typeof phases, label: string, within: number | null) => {
    const [from, to] = phases[phase];
    hooks.onProgress?.({ task: 'learning', label: `${name}: ${label}`, fraction: from + (to - from) * (within ?? 0), done: false });
  };
  report('prepare', `preparing ${project}`, 0);

  const lock = await acquireLearningLock(join(deps.home, 'learning', name, 'lock'), `Adapter ${name}`);
  try {
    await cleanUpDeadRuns(db, deps.adapters, deps.home, name);
    const binary = deps.trainer ?? trainerBinary();
    const base = await deps.base();
    const parent = await usableParent(deps.adapters, name, base);
    const threads = learningThreads(learning.threads);

    const texts = await projectTexts(db, project, deps.acceptThreshold);
    // Once a project has been judged, its held-out files stay held out: training on them later would leak into the frozen set.
    const frozen = await frozenHeldOut(deps.home, name, project);
    const { train, heldOut } = frozen ? { train: texts.filter((text) => !frozen.units.has(text.unit)), heldOut: texts.filter((text) => frozen.units.has(text.unit)) } : splitHeldOut(project, texts, learning.heldOutShare);
    const trainTokens = train.reduce((sum, text) => sum + text.tokens, 0);
    if ((heldOut.length === 0 && !frozen) || trainTokens < learning.minTrainTokens) {
      throw new LearningError('LEARNING_NO_DATA', `${project} has too little to learn from: ${train.length} training text(s), about ${trainTokens} tokens, ${heldOut.length} held out (needs ${learning.minTrainTokens} tokens and two files).`, {
        fix: `Index the project first (npllm index ${project}), or lower learning.minTrainTokens.`,
        details: { trainTexts: train.length, trainTokens, heldOutTexts: heldOut.length },
      });
    }

    const runId = randomUUID();
    const runDir = join(deps.home, 'learning', 'runs', runId);
    const heldOutSet = frozen ?? (await freezeHeldOut(deps.home, name, project, heldOut));
    const earlier = (await learnedProjects(db, name)).filter((other) => other !== project);

    const replayed = learning.replayRatio > 0 && earlier.length > 0
      ? (await sampleReplay(db, { adapterName: name, excludeProject: project, count: replayCount(train.length, learning.replayRatio, replayBatch), seed: seedOf(`${seed}:replay:${project}`) })).map((row) => row.text)
      : [];
    const stream = mixReplay(shuffled(train, seedOf(`${seed}:${project}`)).map((text) => text.text), replayed, { batchSize: replayBatch, ratio: learning.replayRatio });
    const streamTokens = stream.reduce((sum, text) => sum + estimateTokens(text), 0);
    const steps = Math.max(1, Math.min(learning.maxSteps, Math.ceil((learning.epochs * streamTokens) / learning.ctx)));
    const masLambda = parent?.importancePath && learning.masLambda > 0 ? learning.masLambda : 0;
    const settings = {
      rank: learning.rank, alpha: learning.alpha, ctx: learning.ctx, lr: learning.lr, lrMin: learning.lrMin, warmupSteps: learning.warmupSteps, steps, threads, masLambda, replayRatio: learning.replayRatio, seed,
      heldOut: { windows: learning.heldOutWindows, groups: learning.evalGroups, significance: learning.significance, minImprovement: learning.minImprovement, forgettingTolerance: learning.forgettingTolerance },
      parentVersion: parent?.version ?? null, baseModel: base.name, baseModelFingerprint: base.fingerprint, trainer: binary,
    };
    await insertTrainingRun(db, { id: runId, adapterName: name, project, status: 'running', settings, lossCurve: [] });

    const run = { lossCurve: [] as number[] };
    // The scratch folder exists only while the run's row says `running`, so whatever happens, this run or the next one removes it.
    try {
      await mkdir(runDir, { recursive: true });
      const trainFile = join(runDir, 'train.jsonl');
      await writeJsonl(trainFile, stream.map((text) => ({ text })));
      const currentFile = join(runDir, 'current.jsonl');
      await writeJsonl(currentFile, train.map((text) => ({ text: text.text })));
      const trainerRun = (args: string[], onEvent?: (event: TrainerEvent) => void, budgetMs?: number) => runTrainer(binary, args, hooks, onEvent, budgetMs);
      const common = ['--model', base.path, '--ctx', String(learning.ctx), '--threads', String(threads)];
      const scorer = new HeldOutScorer(deps.home, runDir, learning, async (file, adapter) => {
        const events = await trainerRun(['eval', ...common, '--data', file, ...(adapter ? ['--adapter', adapter] : [])]);
        const result = events.find((event): event is Extract<TrainerEvent, { type: 'eval' }> => event.type === 'eval');
        if (!result || !Number.isFinite(result.nll)) throw new LearningError('LEARNING_FAILED', `Evaluating ${file} gave no finite NLL.`, { fix: 'Check the held-out data; NPLLM_LOG_LEVEL=debug shows the trainer output.' });
        return { nll: result.nll, tokens: result.tokens };
      });
      const checkAbort = () => {
        if (hooks.signal?.aborted) throw cancelled('Learning was cancelled.');
      };

      // Judge before: the stable version (or the base, for a first version) on every project, on each project's frozen sample.
      const samples = new Map<string, PreparedSample>();
      samples.set(project, await scorer.prepare(project, heldOutSet));
      for (const other of earlier) {
        const snapshot = await frozenHeldOut(deps.home, name, other);
        if (snapshot) samples.set(other, await scorer.prepare(other, snapshot));
      }
      const baseModel: ScoredModel = { version: 0, key: `base:${base.fingerprint}`, file: null };
      const parentModel: ScoredModel = parent ? { version: parent.version, key: parent.sha256, file: deps.adapters.fileOf(parent) } : baseModel;
      const targets = [project, ...earlier].filter((target) => samples.has(target));
      const before = new Map<string, GroupScore[]>();
      for (const [index, target] of targets.entries()) {
        checkAbort();
        report('before', `judging ${parent ? `v${parent.version}` : 'the base'} on ${target}`, index / targets.length);
        before.set(target, await scorer.scores(samples.get(target)!, parentModel, checkAbort));
      }
      // The base's NLL on this project anchors the matrix's gain column even when training continues a version.
      if (parent) await scorer.scores(samples.get(project)!, baseModel, checkAbort);

      checkAbort();
      report('train', `training ${steps} steps`, 0);
      const adapterOut = join(runDir, 'adapter.gguf');
      const trainArgs = [
        'train', ...common, '--data', trainFile, '--out', adapterOut, '--steps', String(steps), '--lr', String(learning.lr), '--lr-min', String(Math.min(learning.lrMin, learning.lr)),
        '--warmup', String(Math.min(learning.warmupSteps, Math.floor(steps / 2))), '--no-shuffle', '--seed', String(seed),
        ...(parent ? ['--adapter-in', deps.adapters.fileOf(parent)] : ['--rank', String(learning.rank), '--alpha', String(learning.alpha)]),
        ...(masLambda > 0 ? ['--mas-importance', join(deps.home, parent!.importancePath!), '--mas-lambda', String(masLambda)] : []),
      ];
      let lastSaved = Date.now();
      const trainEvents = await trainerRun(trainArgs, (event) => {
        if (event.type === 'step') {
          // JSON has no NaN: a diverged step's loss arrives as null and stays out of the curve (the trainer fails the run).
          if (event.loss !== null) run.lossCurve.push(event.loss);
          report('train', `step ${event.step}/${steps}, loss ${event.loss !== null ? event.loss.toFixed(3) : 'not finite'}`, event.step / steps);
          // The curve is saved as it grows (at most every 5 s), so a dashboard follows a long run.
          if (Date.now() - lastSaved > 5000) {
            lastSaved = Date.now();
            void updateTrainingRun(db, runId, { lossCurve: run.lossCurve }).catch(() => undefined);
          }
        }
      }, learning.maxTrainSeconds === null ? undefined : learning.maxTrainSeconds * 1000);
      const trained = trainEvents.find((event): event is Extract<TrainerEvent, { type: 'done' }> => event.type === 'done');
      checkAbort();

      report('importance', 'measuring importance (MAS)', 0);
      const omegaNew = join(runDir, 'importance.gguf');
      await trainerRun(['importance', ...common, '--adapter', adapterOut, '--data', currentFile, '--out', omegaNew, '--max-windows', String(learning.importanceWindows)], (event) => {
        if (event.type === 'sample') report('importance', `measuring importance, window ${event.sample}/${learning.importanceWindows}`, Math.min(1, event.sample / learning.importanceWindows));
      });
      const accumulated = accumulateImportance(parent?.importancePath ? await readImportance(join(deps.home, parent.importancePath)) : null, await readImportance(omegaNew));
      const omegaStats: ImportanceStats = importanceStats(accumulated);
      const omegaFolder = join(deps.adapters.folder(name), 'importance');
      await mkdir(omegaFolder, { recursive: true });
      const omegaPath = join(omegaFolder, `${runId}.gguf`);
      await writeImportance(omegaPath, accumulated, base.architecture);

      const newModel: ScoredModel = { version: null, key: await sha256File(adapterOut), file: adapterOut };
      const changes: Record<string, PairedChange> = {};
      for (const [index, target] of targets.entries()) {
        checkAbort();
        report('after', `judging the new version on ${target}`, index / targets.length);
        changes[target] = pairedChange(before.get(target)!, await scorer.scores(samples.get(target)!, newModel, checkAbort));
      }
      checkAbort();
      const verdict = judge(project, changes, learning);

      // Forward transfer: the new version against the base on projects the adapter never learned, so serving can leave it out where it hurts.
      const transfer: Record<string, LearningTest> = {};
      const unlearned = learning.transferProjects > 0 ? (await indexedProjects(db)).filter((other) => !targets.includes(other) && other !== project && !earlier.includes(other)) : [];
      for (const other of unlearned) {
        if (Object.keys(transfer).length >= learning.transferProjects) break;
        checkAbort();
        const snapshot = (await frozenHeldOut(deps.home, name, other)) ?? (await freezeNewHeldOut(db, deps, name, other));
        if (!snapshot) continue;
        report('transfer', `measuring the new version on ${other}, not learned`, Object.keys(transfer).length / learning.transferProjects);
        const sample = await scorer.prepare(other, snapshot);
        samples.set(other, sample);
        const change = pairedChange(await scorer.scores(sample, baseModel, checkAbort), await scorer.scores(sample, newModel, checkAbort));
        transfer[other] = learningTest(change, significantWorsening(change, { tolerance: learning.forgettingTolerance, significance: learning.significance }));
      }
      checkAbort();

      const tests = Object.fromEntries(Object.entries(changes).map(([target, change]) => [target, learningTest(change, verdict.significant[target] ?? false)]));
      const nllBefore = Object.fromEntries(Object.entries(changes).map(([target, change]) => [target, change.before]));
      const nllAfter = Object.fromEntries(Object.entries(changes).map(([target, change]) => [target, change.after]));
      const own = changes[project]!;
      const stats = {
        trainTexts: train.length, replayTexts: replayed.length, heldOutTexts: heldOut.length, steps: trained?.steps ?? run.lossCurve.length,
        trainTokens: trained?.tokens ?? 0, tokensPerSecond: trained?.tokensPerSecond ?? 0, durationMs: Date.now() - started, masLambda, seed,
        heldOutTokens: own.tokens, heldOutGroups: own.groups, gainNats: -own.change, gainStandardError: Number.isFinite(own.standardError) ? own.standardError : -1,
        transferProjects: Object.keys(transfer).length, transferWorse: Object.values(transfer).filter((test) => test.significant).length,
      };
      const record = await deps.adapters.register(adapterOut, {
        name, scope, project, baseModel: base.name, baseModelFingerprint: base.fingerprint, parentVersion: parent?.version ?? null, trainingRunId: runId,
        importancePath: omegaPath, metrics: { nllBefore, nllAfter, ...stats, tests, transfer }, reason: verdict.promote ? null : verdict.reason,
        base: await readBaseModelShapes(base.path), move: true,
      });
      const channel = verdict.promote ? (await deps.adapters.promote(name, record.version, verdict.reason)).stable.channel : record.channel;
      await upsertEvaluations(db, scorer.cells(record.version).map((cell) => ({ adapterName: name, ...cell, runId })));
      if (learning.replayCapacity > 0) {
        await addToReservoir(db, { adapterName: name, project, capacity: learning.replayCapacity, candidates: train.map((text) => ({ kind: text.kind, text: text.text, tokens: text.tokens, weight: replayWeight(text.kind) })) });
      }
      await updateTrainingRun(db, runId, {
        status: 'completed', finishedAt: new Date(), lossCurve: run.lossCurve, nllBefore, nllAfter, importanceStats: { ...omegaStats }, stats: { ...stats },
        version: record.version, promoted: verdict.promote, reason: verdict.reason,
      });
      hooks.onProgress?.({ task: 'learning', label: `${name}: v${record.version} ${verdict.promote ? 'promoted' : 'kept experimental'}`, fraction: 1, done: true });
      return {
        runId, adapter: name, version: record.version, channel: channel === 'stable' ? 'stable' : 'experimental', nllBefore, nllAfter, promoted: verdict.promote, reason: verdict.reason,
        parentVersion: parent?.version ?? null, lossCurve: run.lossCurve, stats, tests, transfer,
      };
    } catch (error) {
      const failure = toNpllmError(error);
      await updateTrainingRun(db, runId, {
        status: failure.code === 'CANCELLED' ? 'cancelled' : 'failed', finishedAt: new Date(), lossCurve: run.lossCurve, error: failure.toJSON(), reason: failure.message,
      }).catch(() => undefined);
      hooks.onProgress?.({ task: 'learning', label: `${name}: ${failure.code === 'CANCELLED' ? 'cancelled' : 'failed'}`, fraction: null, done: true });
      throw failure;
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  } finally {
    await lock.release();
  }
}

/** A project's texts as a consolidation trains on and judges by (data-collection's examples, rendered). */
async function projectTexts(db: Db, project: string, acceptThreshold: number): Promise<LearningText[]> {
  const data = await buildTrainingData(db, { project, acceptThreshold });
  return data.examples.map(renderExample).filter((text) => text.text.trim() !== '');
}

/** Freezes the held-out split of a project the adapter has not learned (so a later consolidation of it keeps the same split); null without two files. */
async function freezeNewHeldOut(db: Db, deps: ConsolidationDeps, adapter: string, project: string): Promise<FrozenHeldOut | null> {
  const { heldOut } = splitHeldOut(project, await projectTexts(db, project, deps.acceptThreshold), deps.learning.heldOutShare);
  if (heldOut.length === 0) return null;
  return freezeHeldOut(deps.home, adapter, project, heldOut);
}

function learningTest(change: PairedChange, significant: boolean): LearningTest {
  return { ...change, significant };
}

/**
 * The judge (learning/README.md, "Judge"): promote only if this project's held-out NLL dropped by
 * more than `minImprovement` plus `significance` standard errors of the paired change, and no
 * earlier project's rose by more than `forgettingTolerance` of its value plus as many standard
 * errors. The standard errors come from the groups of whole held-out files (`pairedChange`).
 */
export function judge(
  project: string,
  changes: Record<string, PairedChange>,
  options: Pick<LearningOptions, 'minImprovement' | 'forgettingTolerance' | 'significance'>,
): { promote: boolean; reason: string; significant: Record<string, boolean> } {
  const own = changes[project];
  const significant: Record<string, boolean> = {};
  if (!own || !Number.isFinite(own.before) || !Number.isFinite(own.after)) return { promote: false, reason: `kept experimental: no held-out NLL for ${project}`, significant };
  significant[project] = significantGain(own, { minImprovement: options.minImprovement, significance: options.significance });
  const worse = Object.keys(changes)
    .filter((target) => target !== project && Number.isFinite(changes[target]!.after))
    .filter((target) => (significant[target] = significantWorsening(changes[target]!, { tolerance: options.forgettingTolerance, significance: options.significance })));
  const z = `${options.significance} standard error${options.significance === 1 ? '' : 's'}`;
  if (!significant[project]) {
    return { promote: false, reason: `kept experimental: held-out NLL on this project did not drop by more than ${options.minImprovement} nats + ${z}: ${describeChange(own)}`, significant };
  }
  if (worse.length > 0) {
    return {
      promote: false,
      reason: `kept experimental: it forgot earlier project${worse.length > 1 ? 's' : ''} beyond the ${(options.forgettingTolerance * 100).toFixed(1)} % tolerance + ${z}: ${worse.map((target) => `${target} ${describeChange(changes[target]!)}`).join('; ')}`,
      significant,
    };
  }
  const kept = Object.keys(changes).length - 1;
  return {
    promote: true,
    reason: `promoted: held-out NLL on this project ${describeChange(own)}${kept ? `; ${kept} earlier project${kept > 1 ? 's' : ''} within ${(options.forgettingTolerance * 100).toFixed(1)} % + ${z}` : ''}`,
    significant,
  };
}

/** `2.461 → 2.038 (-17.2 %, -0.423 ± 0.031 nats over 8 groups)`. */
export function describeChange(change: PairedChange): string {
  const signed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
  const noise = Number.isFinite(change.standardError) ? `± ${change.standardError.toFixed(3)} nats over ${change.groups} groups` : 'nats, noise unknown: one group';
  return `${change.before.toFixed(3)} → ${change.after.toFixed(3)} (${signed(((change.after - change.before) / change.before) * 100, 1)} %, ${signed(change.change, 3)} ${noise})`;
}

/** The adapter a project trains: named by request, or after the first stack the user confirmed. */
async function adapterFor(profiles: ProfileLookup, project: string, requested: string | undefined): Promise<{ name: string; scope: string }> {
  const profile = await profiles.profileOf(project);
  if (requested) return { name: requested, scope: requested === 'user' ? 'user' : (profile?.stacks.find((stack) => stack.name === requested)?.name ?? requested) };
  const first = profile?.stacks[0];
  if (!first) {
    throw new RequestError('REQUEST_INVALID', `${project} has no confirmed context, so npllm does not know which adapter it should teach.`, {
      fix: `Confirm its stacks first (npllm context confirm ${project}), or name an adapter: npllm learn --project ${project} --adapter user.`,
    });
  }
  return { name: first.name, scope: first.name };
}

/** The stable version to continue from, if it was trained on this base and its file is intact. */
async function usableParent(store: AdapterStore, name: string, base: ModelIdentity) {
  const stable = await store.stable(name);
  if (!stable || stable.baseModelFingerprint !== base.fingerprint) return null;
  // A damaged file would be trained on (NaN weights end in a diverged run) and judged as the baseline.
  await inspectAdapter(store.fileOf(stable), { sha256: stable.sha256 });
  return stable;
}

/** `budgetMs`: the trainer is asked to stop at its next step boundary after this long (it still writes its result). */
async function runTrainer(binary: string, args: string[], hooks: ConsolidationHooks, onEvent?: (event: TrainerEvent) => void, budgetMs?: number): Promise<TrainerEvent[]> {
  const process = new TrainerProcess(binary, args, { onEvent, signal: hooks.signal });
  const release = hooks.onTrainer?.(process);
  const timer = budgetMs === undefined ? undefined : setTimeout(() => process.stop(), budgetMs);
  try {
    return await process.finished;
  } finally {
    clearTimeout(timer);
    release?.();
  }
}

/** The texts a project was held out with for an adapter (the modulator's oracle examples), or null before its first consolidation. */
export async function heldOutTexts(home: string, adapter: string, project: string): Promise<{ text: string; unit: string }[] | null> {
  return (await frozenHeldOut(home, adapter, project))?.texts ?? null;
}

/**
 * Runs left `running` by a killed process: marked failed, their scratch folders and unregistered
 * importance files removed. A run killed after registering its version keeps it (it is whole).
 */
/**
 * At start-up: runs a killed process left `running` are closed as interrupted (and their scratch
 * files removed), adapter by adapter under its lock, so one a live process is training is left
 * alone. Returns how many were closed.
 */
export async function recoverInterruptedRuns(db: Db, store: AdapterStore, home: string): Promise<number> {
  let closed = 0;
  for (const adapter of await adaptersWithRunningRuns(db)) {
    const lock = await acquireLearningLock(join(home, 'learning', adapter, 'lock'), `Adapter ${adapter}`).catch(() => null);
    if (!lock) continue;
    try {
      closed += await cleanUpDeadRuns(db, store, home, adapter);
    } finally {
      await lock.release();
    }
  }
  return closed;
}

async function cleanUpDeadRuns(db: Db, store: AdapterStore, home: string, adapter: string): Promise<number> {
  const dead = await runningTrainingRuns(db, adapter);
  if (dead.length === 0) return 0;
  const versions = await store.list(adapter);
  for (const run of dead) {
    const registered = versions.find((version) => version.trainingRunId === run.id);
    await updateTrainingRun(db, run.id, {
      status: 'failed', finishedAt: new Date(), version: registered?.version ?? null,
      reason: `interrupted: the process running it stopped before it finished${registered ? ` (after registering v${registered.version})` : ''}`,
      error: new LearningError('LEARNING_FAILED', 'The run was interrupted.', { fix: 'Nothing to do: the stable adapter was not touched; learn the project again.' }).toJSON(),
    });
    await rm(join(home, 'learning', 'runs', run.id), { recursive: true, force: true });
    if (!registered) await rm(join(store.folder(adapter), 'importance', `${run.id}.gguf`), { force: true });
  }
  return dead.length;
}
