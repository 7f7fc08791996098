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
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { LearnResult, Progress } from '../../../shared/contract.js';
import { cancelled, LearningError, RequestError, toNpllmError } from '../../../shared/errors.js';
import { inspectAdapter, readBaseModelShapes } from '../adapters/gguf.js';
import type { AdapterStore } from '../adapters/store.js';
import { buildTrainingData, writeJsonl } from '../data-collection/training-data.js';
import type { Db } from '../db/client.js';
import type { ProfileLookup } from '../project/profile.js';
import type { LearningConfig } from './config.js';
import type { ModelIdentity } from '../model/local-model.js';
import { resolveProjectRoot } from '../project/root.js';
import { estimateTokens, renderExample, replayCount, replayWeight, shuffled, splitHeldOut, type LearningText } from './dataset.js';
import { accumulateImportance, importanceStats, readImportance, writeImportance, type ImportanceStats } from './importance.js';
import { acquireLearningLock } from './lock.js';
import { TrainerProcess, trainerBinary, type TrainerEvent } from './native-trainer.js';
import { findEvaluation, insertTrainingRun, learnedProjects, runningTrainingRuns, updateTrainingRun, upsertEvaluations } from './queries.js';
import { addToReservoir, mixReplay, sampleReplay } from './replay.js';

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
}

/** Mixed batches of 4 texts: with the default ratio, 1 replayed text for 3 of this project. */
const replayBatch = 4;

/** The phases' shares of a run's progress bar. */
const phases = { prepare: [0, 0.03], before: [0.03, 0.12], train: [0.12, 0.8], importance: [0.8, 0.9], after: [0.9, 1] } as const;

/** Trainer threads: every core up to 4 on a quiet machine, 1 on a busy one (2 threads then spend their time in barriers). */
export function learningThreads(configured: number | null, cores = cpus().length, load = loadavg()[0] ?? 0): number {
  if (configured) return configured;
  return load > cores - 0.5 ? 1 : Math.max(1, Math.min(cores, 4));
}

export function projectKey(project: string): string {
  return createHash('sha256').update(project).digest('hex').slice(0, 16);
}

export async function consolidate(deps: ConsolidationDeps, request: ConsolidationRequest, hooks: ConsolidationHooks = {}): Promise<LearnResult> {
  const started = Date.now();
  const { db, learning } = deps;
  const project = await resolveProjectRoot(request.project);
  const { name, scope } = await adapterFor(deps.profiles, project, request.adapter);
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

    const data = await buildTrainingData(db, { project, acceptThreshold: deps.acceptThreshold });
    const texts = data.examples.map(renderExample).filter((text) => text.text.trim() !== '');
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
    const heldOutFile = frozen ?? (await freezeHeldOut(deps.home, name, project, heldOut));
    const earlier = (await learnedProjects(db, name)).filter((other) => other !== project);

    const replayed = learning.replayRatio > 0 && earlier.length > 0
      ? (await sampleReplay(db, { adapterName: name, excludeProject: project, count: replayCount(train.length, learning.replayRatio, replayBatch), seed: seedOf(runId) })).map((row) => row.text)
      : [];
    const stream = mixReplay(shuffled(train, seedOf(project)).map((text) => text.text), replayed, { batchSize: replayBatch, ratio: learning.replayRatio });
    const streamTokens = stream.reduce((sum, text) => sum + estimateTokens(text), 0);
    const steps = Math.max(1, Math.min(learning.maxSteps, Math.ceil((learning.epochs * streamTokens) / learning.ctx)));
    const masLambda = parent?.importancePath && learning.masLambda > 0 ? learning.masLambda : 0;
    const settings = {
      rank: learning.rank, alpha: learning.alpha, ctx: learning.ctx, lr: learning.lr, lrMin: learning.lrMin, warmupSteps: learning.warmupSteps, steps, threads, masLambda, replayRatio: learning.replayRatio,
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
      const evaluate = async (file: string, adapter: string | null) => {
        const events = await trainerRun(['eval', ...common, '--data', file, '--max-windows', String(learning.heldOutWindows), ...(adapter ? ['--adapter', adapter] : [])]);
        const result = events.find((event): event is Extract<TrainerEvent, { type: 'eval' }> => event.type === 'eval');
        if (!result || !Number.isFinite(result.nll)) throw new LearningError('LEARNING_FAILED', `Evaluating ${file} gave no finite NLL.`, { fix: 'Check the held-out data; NPLLM_LOG_LEVEL=debug shows the trainer output.' });
        return { nll: result.nll, tokens: result.tokens };
      };
      const checkAbort = () => {
        if (hooks.signal?.aborted) throw cancelled('Learning was cancelled.');
      };

      // Judge before: the stable version (or the base, for a first version) on every project.
      const snapshots = new Map<string, { file: string; hash: string }>();
      snapshots.set(project, heldOutFile);
      for (const other of earlier) {
        const snapshot = await frozenHeldOut(deps.home, name, other);
        if (snapshot) snapshots.set(other, snapshot);
      }
      const beforeVersion = parent?.version ?? 0;
      const nllBefore: Record<string, number> = {};
      const cells: { version: number; project: string; nll: number; tokens: number; heldOutHash: string }[] = [];
      const cellOrMeasure = async (version: number, adapterFile: string | null, target: string) => {
        const snapshot = snapshots.get(target)!;
        const known = await findEvaluation(db, { adapterName: name, version, project: target });
        if (known && known.heldOutHash === snapshot.hash) return known.nll;
        const measured = await evaluate(snapshot.file, adapterFile);
        cells.push({ version, project: target, ...measured, heldOutHash: snapshot.hash });
        return measured.nll;
      };
      const targets = [project, ...earlier].filter((target) => snapshots.has(target));
      for (const [index, target] of targets.entries()) {
        checkAbort();
        report('before', `judging ${beforeVersion ? `v${beforeVersion}` : 'the base'} on ${target}`, index / targets.length);
        nllBefore[target] = await cellOrMeasure(beforeVersion, parent ? deps.adapters.fileOf(parent) : null, target);
      }
      // The base's NLL on this project anchors the matrix's gain column even when training continues a version.
      if (parent) await cellOrMeasure(0, null, project);

      checkAbort();
      report('train', `training ${steps} steps`, 0);
      const adapterOut = join(runDir, 'adapter.gguf');
      const trainArgs = [
        'train', ...common, '--data', trainFile, '--out', adapterOut, '--steps', String(steps), '--lr', String(learning.lr), '--lr-min', String(Math.min(learning.lrMin, learning.lr)),
        '--warmup', String(Math.min(learning.warmupSteps, Math.floor(steps / 2))), '--no-shuffle', '--seed', String(seedOf(runId) % 1_000_000),
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

      const nllAfter: Record<string, number> = {};
      const afterCells: { project: string; nll: number; tokens: number; heldOutHash: string }[] = [];
      for (const [index, target] of targets.entries()) {
        checkAbort();
        report('after', `judging the new version on ${target}`, index / targets.length);
        const snapshot = snapshots.get(target)!;
        const measured = await evaluate(snapshot.file, adapterOut);
        nllAfter[target] = measured.nll;
        afterCells.push({ project: target, ...measured, heldOutHash: snapshot.hash });
      }
      checkAbort();

      const verdict = judge(project, nllBefore, nllAfter, learning);
      const stats = {
        trainTexts: train.length, replayTexts: replayed.length, heldOutTexts: heldOut.length, steps: trained?.steps ?? run.lossCurve.length,
        trainTokens: trained?.tokens ?? 0, tokensPerSecond: trained?.tokensPerSecond ?? 0, durationMs: Date.now() - started, masLambda,
      };
      const record = await deps.adapters.register(adapterOut, {
        name, scope, project, baseModel: base.name, baseModelFingerprint: base.fingerprint, parentVersion: parent?.version ?? null, trainingRunId: runId,
        importancePath: omegaPath, metrics: { nllBefore, nllAfter, ...stats }, reason: verdict.promote ? null : verdict.reason,
        base: await readBaseModelShapes(base.path), move: true,
      });
      const channel = verdict.promote ? (await deps.adapters.promote(name, record.version, verdict.reason)).stable.channel : record.channel;
      await upsertEvaluations(db, [
        ...cells.map((cell) => ({ adapterName: name, ...cell, runId })),
        ...afterCells.map((cell) => ({ adapterName: name, version: record.version, ...cell, runId })),
      ]);
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
        parentVersion: parent?.version ?? null, lossCurve: run.lossCurve, stats,
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

/**
 * Promote only if this project's held-out NLL drops by at least `minImprovement` and no earlier
 * project's rises by more than `forgettingTolerance` of its value (issue 5, item 6).
 */
export function judge(project: string, before: Record<string, number>, after: Record<string, number>, options: Pick<LearningOptions, 'minImprovement' | 'forgettingTolerance'>): { promote: boolean; reason: string } {
  const percent = (from: number, to: number) => `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(1)} %`;
  const change = (target: string) => `${before[target]!.toFixed(3)} → ${after[target]!.toFixed(3)} (${percent(before[target]!, after[target]!)})`;
  if (!Number.isFinite(after[project]) || !Number.isFinite(before[project])) return { promote: false, reason: `kept experimental: no held-out NLL for ${project}` };
  if (!(after[project]! <= before[project]! - options.minImprovement)) {
    return { promote: false, reason: `kept experimental: held-out NLL on this project did not improve by ${options.minImprovement}: ${change(project)}` };
  }
  const worse = Object.keys(before)
    .filter((target) => target !== project && Number.isFinite(after[target]))
    .filter((target) => after[target]! > before[target]! * (1 + options.forgettingTolerance));
  if (worse.length > 0) {
    return {
      promote: false,
      reason: `kept experimental: it forgot earlier project${worse.length > 1 ? 's' : ''} beyond the ${(options.forgettingTolerance * 100).toFixed(1)} % tolerance: ${worse.map((target) => `${target} ${change(target)}`).join('; ')}`,
    };
  }
  const kept = Object.keys(before).length - 1;
  return { promote: true, reason: `promoted: held-out NLL on this project ${change(project)}${kept ? `; ${kept} earlier project${kept > 1 ? 's' : ''} within ${(options.forgettingTolerance * 100).toFixed(1)} %` : ''}` };
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

function heldOutPath(home: string, adapter: string, project: string): string {
  return join(home, 'learning', adapter, 'heldout', `${projectKey(project)}.jsonl`);
}

/**
 * The held-out texts a project is judged on, frozen at its first consolidation: later versions
 * are measured on exactly the same tokens, so the forgetting matrix compares like with like.
 */
async function freezeHeldOut(home: string, adapter: string, project: string, heldOut: readonly LearningText[]): Promise<{ file: string; hash: string }> {
  const file = heldOutPath(home, adapter, project);
  await mkdir(join(home, 'learning', adapter, 'heldout'), { recursive: true });
  const { sha256 } = await writeJsonl(file, heldOut.map((text) => ({ text: text.text, unit: text.unit })));
  return { file, hash: sha256 };
}

/** A project's frozen held-out set (its file, its hash and the files in it), or null before its first consolidation. */
async function frozenHeldOut(home: string, adapter: string, project: string): Promise<{ file: string; hash: string; units: Set<string> } | null> {
  const file = heldOutPath(home, adapter, project);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const units = content
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { unit?: string }).unit ?? '');
  return { file, hash: createHash('sha256').update(content).digest('hex'), units: new Set(units) };
}

/**
 * Runs left `running` by a killed process: marked failed, their scratch folders and unregistered
 * importance files removed. A run killed after registering its version keeps it (it is whole).
 */
async function cleanUpDeadRuns(db: Db, store: AdapterStore, home: string, adapter: string): Promise<void> {
  const dead = await runningTrainingRuns(db, adapter);
  if (dead.length === 0) return;
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
}

function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}
