/**
 * One consolidation run once its `running` row is written (consolidate.ts decides everything before):
 * the run's scratch folder, scorer and loss curve, and steps 4–11 of learning/README.md as methods.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdapterRecord, LearningTest, LearnResult } from '../../../shared/contract.js';
import { cancelled, LearningError, toNpllmError, type NpllmError } from '../../../shared/errors.js';
import { pairedChange, significantWorsening, type GroupScore, type PairedChange } from '../../../shared/learning-metrics.js';
import { readBaseModelShapes } from '../adapters/gguf.js';
import { buildTrainingData, writeJsonl } from '../data-collection/training-data.js';
import type { Db } from '../db/client.js';
import { sha256File } from '../base/files.js';
import { renderExample, replayWeight, splitHeldOut, type LearningText } from './dataset.js';
import { freezeHeldOut, frozenHeldOut, HeldOutScorer, type FrozenHeldOut, type PreparedSample, type ScoredModel } from './held-out.js';
import { accumulateImportance, importanceStats, readImportance, writeImportance, type ImportanceStats } from './importance.js';
import { judge, learningTest } from './judge.js';
import { TrainerProcess, type TrainerEvent } from './native-trainer.js';
import { indexedProjects, updateTrainingRun, upsertEvaluations } from './queries.js';
import { addToReservoir } from './replay.js';

import { type ConsolidationDeps, type RunPlan, type RunSetup, type TrainerDone } from './run-types.js';
export interface Judged {
  samples: Map<string, PreparedSample>;
  targets: string[];
  before: Map<string, GroupScore[]>;
}
export type Verdict = ReturnType<typeof judge>;
export interface After {
  model: ScoredModel;
  changes: Record<string, PairedChange>;
  verdict: Verdict;
}
export type Summary = ReturnType<Consolidation['summarise']>;
export interface Registered {
  record: AdapterRecord;
  channel: AdapterRecord['channel'];
}

/** Steps 4–11 of one run that has its `running` row: its state is the run's scratch folder, scorer and loss curve. */
export class Consolidation {
  private readonly lossCurve: number[] = [];
  private readonly files: { train: string; current: string; adapter: string; importance: string };
  private readonly common: string[];
  private readonly scorer: HeldOutScorer;
  private readonly baseModel: ScoredModel;

  constructor(
    private readonly setup: RunSetup,
    private readonly plan: RunPlan,
  ) {
    const {
      deps: { home, learning },
      base,
      threads,
    } = setup;
    const file = (name: string) => join(plan.runDir, name);
    this.files = { train: file('train.jsonl'), current: file('current.jsonl'), adapter: file('adapter.gguf'), importance: file('importance.gguf') };
    this.common = ['--model', base.path, '--ctx', String(learning.ctx), '--threads', String(threads)];
    this.scorer = new HeldOutScorer(home, plan.runDir, learning, (file, adapter) => this.evaluate(file, adapter));
    this.baseModel = { version: 0, key: `base:${base.fingerprint}`, file: null };
  }

  async run(): Promise<LearnResult> {
    // The scratch folder exists only while the run's row says `running`, so whatever happens, this run or the next one removes it.
    try {
      await this.writeTrainingFiles();
      const judged = await this.judgeBefore(await this.prepareSamples());
      const trained = await this.train();
      const importance = await this.measureImportance();
      const after = await this.judgeAfter(judged);
      const transfer = await this.measureTransfer(after.model);
      const summary = this.summarise(trained, after, transfer);
      const registered = await this.register(importance.path, after.verdict, summary);
      return await this.recordRun(registered, importance.stats, after.verdict, summary);
    } catch (error) {
      throw await this.recordFailure(error);
    } finally {
      await rm(this.plan.runDir, { recursive: true, force: true });
    }
  }

  private readonly checkAbort = (): void => {
    if (this.setup.hooks.signal?.aborted) throw cancelled('Learning was cancelled.');
  };

  /** `budgetMs`: the trainer is asked to stop at its next step boundary after this long (it still writes its result). */
  private async trainer(args: string[], onEvent?: (event: TrainerEvent) => void, budgetMs?: number): Promise<TrainerEvent[]> {
    const { binary, hooks } = this.setup;
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

  private async evaluate(file: string, adapter: string | null): Promise<GroupScore> {
    const events = await this.trainer(['eval', ...this.common, '--data', file, ...(adapter ? ['--adapter', adapter] : [])]);
    const result = events.find((event): event is Extract<TrainerEvent, { type: 'eval' }> => event.type === 'eval');
    if (!result || !Number.isFinite(result.nll))
      throw new LearningError('LEARNING_FAILED', `Evaluating ${file} gave no finite NLL.`, {
        fix: 'Check the held-out data; NPLLM_LOG_LEVEL=debug shows the trainer output.',
      });
    return { nll: result.nll, tokens: result.tokens };
  }

  private async writeTrainingFiles(): Promise<void> {
    await mkdir(this.plan.runDir, { recursive: true });
    await writeJsonl(
      this.files.train,
      this.plan.stream.map((text) => ({ text })),
    );
    await writeJsonl(
      this.files.current,
      this.plan.train.map((text) => ({ text: text.text })),
    );
  }

  /** Step 4, Held-out sample: this project's and every earlier project's that has a frozen set. */
  private async prepareSamples(): Promise<Map<string, PreparedSample>> {
    const { deps, name, project } = this.setup;
    const samples = new Map<string, PreparedSample>();
    samples.set(project, await this.scorer.prepare(project, this.plan.heldOutSet));
    for (const other of this.plan.earlier) {
      const snapshot = await frozenHeldOut(deps.home, name, other);
      if (snapshot) samples.set(other, await this.scorer.prepare(other, snapshot));
    }
    return samples;
  }

  /** Step 5, Before: the stable version (or the base, for a first version) on every project, on each project's frozen sample. */
  private async judgeBefore(samples: Map<string, PreparedSample>): Promise<Judged> {
    const { deps, project, parent, report } = this.setup;
    const parentModel: ScoredModel = parent ? { version: parent.version, key: parent.sha256, file: deps.adapters.fileOf(parent) } : this.baseModel;
    const targets = [project, ...this.plan.earlier].filter((target) => samples.has(target));
    const before = new Map<string, GroupScore[]>();
    for (const [index, target] of targets.entries()) {
      this.checkAbort();
      report('before', `judging ${parent ? `v${parent.version}` : 'the base'} on ${target}`, index / targets.length);
      before.set(target, await this.scorer.scores(samples.get(target)!, parentModel, this.checkAbort));
    }
    // The base's NLL on this project anchors the matrix's gain column even when training continues a version.
    if (parent) await this.scorer.scores(samples.get(project)!, this.baseModel, this.checkAbort);
    return { samples, targets, before };
  }

  /** Step 6, Train; the loss curve is saved as it grows (at most every 5 s), so a dashboard follows a long run. */
  private async train(): Promise<TrainerDone | undefined> {
    const {
      deps: { db, learning },
      report,
    } = this.setup;
    const { steps, runId } = this.plan;
    this.checkAbort();
    report('train', `training ${steps} steps`, 0);
    const args = this.trainArgs();
    let lastSaved = Date.now();
    const events = await this.trainer(
      args,
      (event) => {
        if (event.type !== 'step') return;
        // JSON has no NaN: a diverged step's loss arrives as null and stays out of the curve (the trainer fails the run).
        if (event.loss !== null) this.lossCurve.push(event.loss);
        report('train', `step ${event.step}/${steps}, loss ${event.loss !== null ? event.loss.toFixed(3) : 'not finite'}`, event.step / steps);
        if (Date.now() - lastSaved > 5000) {
          lastSaved = Date.now();
          void updateTrainingRun(db, runId, { lossCurve: this.lossCurve }).catch(() => undefined);
        }
      },
      learning.maxTrainSeconds === null ? undefined : learning.maxTrainSeconds * 1000,
    );
    const trained = events.find((event): event is TrainerDone => event.type === 'done');
    this.checkAbort();
    return trained;
  }

  private trainArgs(): string[] {
    const {
      deps: { adapters, home, learning },
      parent,
      seed,
    } = this.setup;
    const { steps, masLambda } = this.plan;
    return [
      'train',
      ...this.common,
      '--data',
      this.files.train,
      '--out',
      this.files.adapter,
      '--steps',
      String(steps),
      '--lr',
      String(learning.lr),
      '--lr-min',
      String(Math.min(learning.lrMin, learning.lr)),
      '--warmup',
      String(Math.min(learning.warmupSteps, Math.floor(steps / 2))),
      '--no-shuffle',
      '--seed',
      String(seed),
      ...(parent ? ['--adapter-in', adapters.fileOf(parent)] : ['--rank', String(learning.rank), '--alpha', String(learning.alpha)]),
      ...(masLambda > 0 ? ['--mas-importance', join(home, parent!.importancePath!), '--mas-lambda', String(masLambda)] : []),
    ];
  }

  /** Step 7, Importance: this project's Ω on the new adapter plus the parent's, written next to the adapter's versions. */
  private async measureImportance(): Promise<{ path: string; stats: ImportanceStats }> {
    const {
      deps: { adapters, home, learning },
      name,
      parent,
      base,
      report,
    } = this.setup;
    report('importance', 'measuring importance (MAS)', 0);
    await this.trainer(
      [
        'importance',
        ...this.common,
        '--adapter',
        this.files.adapter,
        '--data',
        this.files.current,
        '--out',
        this.files.importance,
        '--max-windows',
        String(learning.importanceWindows),
      ],
      (event) => {
        if (event.type === 'sample')
          report(
            'importance',
            `measuring importance, window ${event.sample}/${learning.importanceWindows}`,
            Math.min(1, event.sample / learning.importanceWindows),
          );
      },
    );
    const accumulated = accumulateImportance(
      parent?.importancePath ? await readImportance(join(home, parent.importancePath)) : null,
      await readImportance(this.files.importance),
    );
    const stats = importanceStats(accumulated);
    const folder = join(adapters.folder(name), 'importance');
    await mkdir(folder, { recursive: true });
    const path = join(folder, `${this.plan.runId}.gguf`);
    await writeImportance(path, accumulated, base.architecture);
    return { path, stats };
  }

  /** Steps 8–9, After and Judge: the new version on the same samples, paired with before group by group. */
  private async judgeAfter({ samples, targets, before }: Judged): Promise<After> {
    const {
      deps: { learning },
      project,
      report,
    } = this.setup;
    const model: ScoredModel = { version: null, key: await sha256File(this.files.adapter), file: this.files.adapter };
    const changes: Record<string, PairedChange> = {};
    for (const [index, target] of targets.entries()) {
      this.checkAbort();
      report('after', `judging the new version on ${target}`, index / targets.length);
      changes[target] = pairedChange(before.get(target)!, await this.scorer.scores(samples.get(target)!, model, this.checkAbort));
    }
    this.checkAbort();
    return { model, changes, verdict: judge(project, changes, learning) };
  }

  /** Forward transfer: the new version against the base on projects the adapter never learned, so serving can leave it out where it hurts. */
  private async measureTransfer(model: ScoredModel): Promise<Record<string, LearningTest>> {
    const { deps, name, project, report } = this.setup;
    const { learning } = deps;
    const transfer: Record<string, LearningTest> = {};
    const unlearned =
      learning.transferProjects > 0 ? (await indexedProjects(deps.db)).filter((other) => other !== project && !this.plan.earlier.includes(other)) : [];
    for (const other of unlearned) {
      if (Object.keys(transfer).length >= learning.transferProjects) break;
      this.checkAbort();
      const snapshot = (await frozenHeldOut(deps.home, name, other)) ?? (await freezeNewHeldOut(deps, name, other));
      if (!snapshot) continue;
      report('transfer', `measuring the new version on ${other}, not learned`, Object.keys(transfer).length / learning.transferProjects);
      const sample = await this.scorer.prepare(other, snapshot);
      const change = pairedChange(await this.scorer.scores(sample, this.baseModel, this.checkAbort), await this.scorer.scores(sample, model, this.checkAbort));
      transfer[other] = learningTest(change, significantWorsening(change, { tolerance: learning.forgettingTolerance, significance: learning.significance }));
    }
    this.checkAbort();
    return transfer;
  }

  /** The judged tests and the run's statistics, as the version's metrics and the run's row record them. */
  private summarise(trained: TrainerDone | undefined, { changes, verdict }: After, transfer: Record<string, LearningTest>) {
    const { started, seed } = this.setup;
    const { train, replayed, heldOut, masLambda } = this.plan;
    const tests = Object.fromEntries(Object.entries(changes).map(([target, change]) => [target, learningTest(change, verdict.significant[target] ?? false)]));
    const nllBefore = Object.fromEntries(Object.entries(changes).map(([target, change]) => [target, change.before]));
    const nllAfter = Object.fromEntries(Object.entries(changes).map(([target, change]) => [target, change.after]));
    const own = changes[this.setup.project]!;
    const stats = {
      trainTexts: train.length,
      replayTexts: replayed.length,
      heldOutTexts: heldOut.length,
      steps: trained?.steps ?? this.lossCurve.length,
      trainTokens: trained?.tokens ?? 0,
      tokensPerSecond: trained?.tokensPerSecond ?? 0,
      durationMs: Date.now() - started,
      masLambda,
      seed,
      heldOutTokens: own.tokens,
      heldOutGroups: own.groups,
      gainNats: -own.change,
      gainStandardError: Number.isFinite(own.standardError) ? own.standardError : -1,
      transferProjects: Object.keys(transfer).length,
      transferWorse: Object.values(transfer).filter((test) => test.significant).length,
    };
    return { tests, nllBefore, nllAfter, stats, transfer };
  }

  /** Registration checks the file against the base and is atomic; promotion, only if the judge said so, is another transaction. */
  private async register(importancePath: string, verdict: Verdict, { nllBefore, nllAfter, stats, tests, transfer }: Summary): Promise<Registered> {
    const {
      deps: { adapters },
      name,
      scope,
      project,
      base,
      parent,
    } = this.setup;
    const record = await adapters.register(this.files.adapter, {
      name,
      scope,
      project,
      baseModel: base.name,
      baseModelFingerprint: base.fingerprint,
      parentVersion: parent?.version ?? null,
      trainingRunId: this.plan.runId,
      importancePath,
      metrics: { nllBefore, nllAfter, ...stats, tests, transfer },
      reason: verdict.promote ? null : verdict.reason,
      base: await readBaseModelShapes(base.path),
      move: true,
    });
    const channel = verdict.promote ? (await adapters.promote(name, record.version, verdict.reason)).stable.channel : record.channel;
    return { record, channel };
  }

  /** Step 11, Record: the matrix cells, this project's texts into the replay reservoir, the run's row completed. */
  private async recordRun({ record, channel }: Registered, omegaStats: ImportanceStats, verdict: Verdict, summary: Summary): Promise<LearnResult> {
    const {
      deps: { db, learning },
      hooks,
      name,
      project,
      parent,
    } = this.setup;
    const { runId, train } = this.plan;
    const { nllBefore, nllAfter, stats, tests, transfer } = summary;
    await upsertEvaluations(
      db,
      this.scorer.cells(record.version).map((cell) => ({ adapterName: name, ...cell, runId })),
    );
    if (learning.replayCapacity > 0) {
      await addToReservoir(db, {
        adapterName: name,
        project,
        capacity: learning.replayCapacity,
        candidates: train.map((text) => ({ kind: text.kind, text: text.text, tokens: text.tokens, weight: replayWeight(text.kind) })),
      });
    }
    await updateTrainingRun(db, runId, {
      status: 'completed',
      finishedAt: new Date(),
      lossCurve: this.lossCurve,
      nllBefore,
      nllAfter,
      importanceStats: { ...omegaStats },
      stats: { ...stats },
      version: record.version,
      promoted: verdict.promote,
      reason: verdict.reason,
    });
    hooks.onProgress?.({
      task: 'learning',
      label: `${name}: v${record.version} ${verdict.promote ? 'promoted' : 'kept experimental'}`,
      fraction: 1,
      done: true,
    });
    return {
      runId,
      adapter: name,
      version: record.version,
      channel: channel === 'stable' ? 'stable' : 'experimental',
      nllBefore,
      nllAfter,
      promoted: verdict.promote,
      reason: verdict.reason,
      parentVersion: parent?.version ?? null,
      lossCurve: this.lossCurve,
      stats,
      tests,
      transfer,
    };
  }

  /** The row says failed or cancelled (best effort: the error being reported matters more). */
  private async recordFailure(error: unknown): Promise<NpllmError> {
    const failure = toNpllmError(error);
    await updateTrainingRun(this.setup.deps.db, this.plan.runId, {
      status: failure.code === 'CANCELLED' ? 'cancelled' : 'failed',
      finishedAt: new Date(),
      lossCurve: this.lossCurve,
      error: failure.toJSON(),
      reason: failure.message,
    }).catch(() => undefined);
    this.setup.hooks.onProgress?.({
      task: 'learning',
      label: `${this.setup.name}: ${failure.code === 'CANCELLED' ? 'cancelled' : 'failed'}`,
      fraction: null,
      done: true,
    });
    return failure;
  }
}

/** A project's texts as a consolidation trains on and judges by (data-collection's examples, rendered). */
export async function projectTexts(db: Db, project: string, acceptThreshold: number): Promise<LearningText[]> {
  const data = await buildTrainingData(db, { project, acceptThreshold });
  return data.examples.map(renderExample).filter((text) => text.text.trim() !== '');
}

/** Freezes the held-out split of a project the adapter has not learned (so a later consolidation of it keeps the same split); null without two files. */
async function freezeNewHeldOut(deps: ConsolidationDeps, adapter: string, project: string): Promise<FrozenHeldOut | null> {
  const { heldOut } = splitHeldOut(project, await projectTexts(deps.db, project, deps.acceptThreshold), deps.learning.heldOutShare);
  if (heldOut.length === 0) return null;
  return freezeHeldOut(deps.home, adapter, project, heldOut);
}
