/**
 * How the modulator learns, off the critical path (modulator/README.md "Learning"):
 *
 * - online, from the reward of each answer once it has settled: one off-policy policy-gradient
 *   step per logged decision on a working copy of the stable network, yielding to answers; every
 *   `versionEvery` updates the copy becomes an experimental version, judged for promotion;
 * - offline, on request or after a consolidation: the oracle grid of held-out examples of each
 *   learned project is measured in a child process, the network fitted to it, judged, promoted if
 *   better.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModulatorLearnResult, ModulatorStatus, Progress } from '../../../shared/contract.js';
import { ModulatorError, toNpllmError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../base/files.js';
import type { LogLevel } from '../base/log.js';
import type { Db } from '../db/client.js';
import type { ModulatorConfig } from './config.js';
import { decodeInput, encodeInput, type ProbeSignals, type StoredInput } from './features.js';
import { buildInput, type AdapterCandidate } from './inputs.js';
import { judge, type Verdict } from './judge.js';
import type { Modulator } from './modulator.js';
import type { ModulatorNetwork } from './network.js';
import { fit, fullGrid, type OracleExample } from './offline.js';
import type { LoggedSample } from './ope.js';
import { measureGrid, splitExample, type PausableWorker } from './oracle.js';
import { policyGradient, softmax, sigmoid, type Action } from './policy.js';
import { scaleOf } from './prior.js';
import {
  decisionCounts,
  learnedPairs,
  listVersions,
  loggedDecisions,
  markLearned,
  recentDecisions,
  settledDecisions,
  updateVersion,
  type RewardedDecision,
} from './queries.js';

/** What offline learning needs of the rest of the engine (engine.ts wires it). */
export interface OracleEnvironment {
  heldOut(adapter: string, project: string): Promise<{ text: string; unit: string }[] | null>;
  candidates(project: string): Promise<AdapterCandidate[]>;
  probe(question: string, project: string): Promise<{ embedding: Float32Array | null; probe: ProbeSignals; ruleRetrieve: boolean }>;
  stacks(project: string): Promise<{ name: string; version: string | null; confidence: number }[]>;
  modelPath(): Promise<string>;
  threads: number;
  onWorker?: ((worker: PausableWorker) => () => void) | undefined;
}

export interface LearnerDeps {
  db: Db;
  home: string;
  modulator: Modulator;
  environment: OracleEnvironment;
  /** True while a question is answered: online updates wait. */
  busy: () => boolean;
  log?: (level: LogLevel, message: string) => void;
}

const offlineLearningRate = 0.01;
/** The oracle file's scorer: 2 since `scorer.ts` returns the true NLL (README "The oracle"); other files are measured again. */
const oracleScorer = 2;

export class ModulatorLearner {
  private working: { network: ModulatorNetwork; parent: number } | null = null;
  /**
   * Running mean reward per project (its hashed row; null without a project): the baseline of the
   * policy gradient. Per project, the plan's usual action has an advantage near zero there, and what
   * is learned comes from how explored actions did against it.
   */
  private readonly baselines = new Map<number | null, number>();
  private updates = 0;
  private sinceVersion = 0;
  private online: Promise<void> | null = null;
  private offline: Promise<ModulatorLearnResult> | null = null;

  constructor(private readonly deps: LearnerDeps) {}

  private get config(): ModulatorConfig {
    return this.deps.modulator.config;
  }

  /** After an answer: learn from whatever rewards have settled, soon, in the background. */
  schedule(): void {
    if (!this.config.enabled || this.online) return;
    this.online = new Promise<void>((resolve) => setTimeout(resolve, 50).unref())
      .then(() => this.learnOnline())
      .then(() => undefined)
      .catch((error: unknown) => this.deps.log?.('warn', `modulator: online learning stopped: ${toNpllmError(error).message}`))
      .finally(() => (this.online = null));
  }

  /** Waits for background learning (tests, shutdown). */
  async idle(): Promise<void> {
    await this.online;
    await this.offline?.catch(() => undefined);
  }

  /** One pass over settled, unlearned decisions; returns how many updates it applied. */
  async learnOnline(now = new Date()): Promise<number> {
    const serving = await this.deps.modulator.servingVersion();
    if (!this.working || this.working.parent !== serving.version) {
      const network = serving.network.clone();
      network.options.learningRate = this.config.onlineLearningRate;
      this.working = { network, parent: serving.version };
    }
    let applied = 0;
    const before = new Date(now.getTime() - this.config.settleSeconds * 1000);
    for (;;) {
      const batch = await settledDecisions(this.deps.db, { before, limit: 32 });
      if (batch.length === 0) break;
      const done: string[] = [];
      for (const decision of batch) {
        while (this.deps.busy()) await sleep(100);
        if (this.update(this.working.network, decision)) applied++;
        done.push(decision.interactionId);
        // Each update is a few milliseconds; the event loop serves requests between them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await markLearned(this.deps.db, done);
      if (batch.length < 32) break;
    }
    this.updates += applied;
    this.sinceVersion += applied;
    if (this.sinceVersion >= this.config.versionEvery) {
      this.sinceVersion = 0;
      await this.propose(this.working.network.clone(), 'online', this.working.parent);
    }
    if (applied > 0) await this.rejudge();
    return applied;
  }

  /**
   * The newest version kept only for want of logged answers (an offline fit on a young install) is
   * judged again once the answers exist, instead of waiting for the next fit.
   */
  async rejudge(): Promise<ModulatorLearnResult | null> {
    const versions = await listVersions(this.deps.db);
    const stable = versions.find((row) => row.channel === 'stable');
    const waiting = versions.find((row) => row.channel === 'experimental' && row.metrics.awaiting === true && (!stable || row.version > stable.version));
    if (!waiting) return null;
    const logs = await this.logs();
    if (logs.length < this.config.minLoggedDecisions) return null;
    let network: ModulatorNetwork;
    try {
      network = await this.deps.modulator.store.read(waiting);
    } catch (error) {
      await updateVersion(this.deps.db, waiting.version, { metrics: { ...waiting.metrics, awaiting: false }, reason: toNpllmError(error).message });
      return null;
    }
    const examples = await this.oracleExamples();
    const verdict = this.verdict(network, (await this.deps.modulator.servingVersion()).network, examples, logs);
    await updateVersion(this.deps.db, waiting.version, {
      metrics: { ...verdict.after, examples: examples.length, awaiting: verdict.awaiting },
      reason: verdict.reason,
    });
    return this.settle(waiting.version, waiting.origin, verdict, examples.length);
  }

  /** One off-policy REINFORCE step; false (and nothing changes) when the sample or the step is unusable. */
  update(network: ModulatorNetwork, decision: Pick<RewardedDecision, 'features' | 'action' | 'propensity' | 'reward' | 'interactionId'>): boolean {
    const sample = toSample(decision);
    if (!sample) return false;
    const { output, trace } = network.forward(sample.input);
    const probability = actionProbability(output, sample.action);
    const weight = Math.min(this.config.maxImportanceWeight, probability / Math.max(sample.propensity, 1e-3));
    const baseline = this.baselines.get(sample.input.project);
    const advantage = baseline === undefined ? 0 : sample.reward - baseline;
    if (!Number.isFinite(weight) || !Number.isFinite(advantage) || !Number.isFinite(sample.reward)) {
      this.deps.log?.('warn', `modulator: update from ${decision.interactionId} skipped: a non-finite weight or reward`);
      return false;
    }
    network.backward(trace, policyGradient(output, sample.action, advantage, weight, { retrieval: true, budget: true }));
    const step = network.step();
    if (!step.applied) {
      this.deps.log?.('warn', `modulator: update from ${decision.interactionId} skipped: the gradient was not finite (NaN)`);
      return false;
    }
    this.baselines.set(sample.input.project, baseline === undefined ? sample.reward : 0.9 * baseline + 0.1 * sample.reward);
    return true;
  }

  /** The offline fit: measure the oracle of held-out examples, fit, judge, promote if better. */
  learn(
    request: { project?: string | undefined; steps?: number | undefined },
    hooks: { signal?: AbortSignal | undefined; onProgress?: ((progress: Progress) => void) | undefined } = {},
  ): Promise<ModulatorLearnResult> {
    const run = (this.offline ?? Promise.resolve()).catch(() => undefined).then(() => this.learnOffline(request, hooks));
    this.offline = run;
    return run;
  }

  private async learnOffline(
    request: { project?: string | undefined; steps?: number | undefined },
    hooks: { signal?: AbortSignal | undefined; onProgress?: ((progress: Progress) => void) | undefined },
  ): Promise<ModulatorLearnResult> {
    const progress = (label: string, fraction: number | null, done = false) => hooks.onProgress?.({ task: 'learning', label, fraction, done });
    const fresh = await this.measureOracle(request.project, hooks.signal, progress);
    const stored = await this.oracleExamples();
    const kept = stored.filter((example) => !fresh.some((added) => added.project === example.project));
    const examples = [...kept, ...fresh];
    if (fresh.length) await this.saveOracle(examples);
    if (examples.length === 0) {
      throw new ModulatorError(
        'MODULATOR_NO_DATA',
        'No held-out examples to fit the modulator to: no project has been learned yet (or none has servable adapters).',
        { fix: 'Learn a project first (npllm learn --project PATH), then run npllm modulator learn.' },
      );
    }
    const serving = await this.deps.modulator.servingVersion();
    const candidate = serving.network.clone();
    // Moving off a confident prior is slow at the online rate (the gradient scales with π(1 − π)).
    candidate.options.learningRate = offlineLearningRate;
    const steps = request.steps ?? this.config.oracleSteps;
    fit(
      candidate,
      { oracle: examples },
      { steps, signal: hooks.signal, onStep: (step) => step % 50 === 0 && progress(`Fitting the modulator: step ${step}/${steps}`, step / steps) },
    );
    const result = await this.propose(candidate, 'offline', serving.version, examples);
    progress(result.reason, 1, true);
    return result;
  }

  /** Registers `network` as experimental, judges it against the stable version and promotes it if it earned it. */
  private async propose(
    network: ModulatorNetwork,
    origin: 'offline' | 'online',
    parent: number,
    oracle?: readonly OracleExample[],
  ): Promise<ModulatorLearnResult> {
    const examples = oracle ?? (await this.oracleExamples());
    const verdict = this.verdict(network, (await this.deps.modulator.servingVersion()).network, examples, await this.logs());
    const row = await this.deps.modulator.store.save(network, {
      origin,
      parentVersion: parent || null,
      metrics: { ...verdict.after, examples: examples.length, awaiting: verdict.awaiting },
      reason: verdict.reason,
    });
    return this.settle(row.version, origin, verdict, examples.length);
  }

  private async logs(): Promise<LoggedSample[]> {
    return (await loggedDecisions(this.deps.db, 5000)).map(toSample).filter((sample): sample is LoggedSample => sample !== null);
  }

  private verdict(network: ModulatorNetwork, stable: ModulatorNetwork, examples: readonly OracleExample[], logs: readonly LoggedSample[]): Verdict {
    return judge(network, stable, { oracle: examples, logs }, { minLogged: this.config.minLoggedDecisions, gapTolerance: 0.002, rewardTolerance: 0.01 });
  }

  private async settle(version: number, origin: 'offline' | 'online', verdict: Verdict, examples: number): Promise<ModulatorLearnResult> {
    if (verdict.promote) {
      await this.deps.modulator.store.promote(version, verdict.reason);
      this.deps.modulator.invalidate();
    }
    this.deps.log?.('info', `modulator v${version} (${origin}): ${verdict.reason}`);
    return {
      version,
      channel: verdict.promote ? 'stable' : 'experimental',
      promoted: verdict.promote,
      reason: verdict.reason,
      examples,
      before: verdict.before,
      after: verdict.after,
    };
  }

  private async measureOracle(
    only: string | undefined,
    signal: AbortSignal | undefined,
    progress: (label: string, fraction: number | null) => void,
  ): Promise<OracleExample[]> {
    const env = this.deps.environment;
    const modulator = this.deps.modulator;
    const pairs = (await learnedPairs(this.deps.db)).filter((pair) => !only || pair.project === only);
    const examples: OracleExample[] = [];
    const seen = new Set<string>();
    for (const { adapter, project } of pairs) {
      if (seen.has(project)) continue;
      const texts = await env.heldOut(adapter, project);
      if (!texts?.length) continue;
      seen.add(project);
      const candidates = (await env.candidates(project)).slice(0, this.config.maxCandidates);
      if (candidates.length === 0) continue;
      const stacks = await env.stacks(project);
      const chosen = texts
        .map((text, index) => ({ ...text, index, split: splitExample(text.text, { promptShare: 0.3, maxChars: 600 }) }))
        .filter((text) => text.split !== null)
        .slice(0, this.config.oracleExamples);
      const grid = fullGrid(candidates.length, this.config.levels);
      const inputs: StoredInput[] = [];
      for (const text of chosen) {
        const probe = await env.probe(text.split!.prompt, project);
        const knowledge = candidates.map(() => ({ harm: null, harmful: false, gain: null, centroid: null }));
        const built = buildInput(
          {
            question: text.split!.prompt,
            history: [],
            regenerates: false,
            project,
            embedding: probe.embedding,
            probe: probe.probe,
            ruleRetrieve: probe.ruleRetrieve,
            stacks,
          },
          candidates,
          knowledge,
          modulator.shape,
          modulator.prior,
        );
        inputs.push(encodeInput(built.input));
      }
      progress(`Measuring the oracle for ${project}: ${grid.length} mixes × ${chosen.length} examples`, 0);
      const nll = await measureGrid(
        {
          modelPath: await env.modelPath(),
          contextSize: 2048,
          threads: env.threads,
          adapters: candidates.map((candidate) => candidate.path),
          mixes: grid.map((mix) => mix.map((level) => scaleOf(level, modulator.prior))),
          examples: chosen.map((text) => text.split!),
        },
        {
          signal,
          onWorker: env.onWorker,
          onMeasured: (done, total) => done % 20 === 0 && progress(`Measuring the oracle for ${project}: ${done}/${total}`, done / total),
        },
      );
      chosen.forEach((text, index) => {
        examples.push({
          project,
          unit: text.unit,
          input: inputs[index]!,
          candidates: candidates.map((candidate) => candidate.name),
          grid,
          nll: grid.map((_, mix) => nll[mix]![index]!),
          split: 'fit',
        });
      });
    }
    return assignSplits(examples);
  }

  private oraclePath(): string {
    return join(this.deps.home, 'modulator', 'oracle.json');
  }

  async oracleExamples(): Promise<OracleExample[]> {
    let stored: unknown;
    try {
      stored = JSON.parse(await readFile(this.oraclePath(), 'utf8'));
    } catch {
      return [];
    }
    if (typeof stored === 'object' && stored !== null && (stored as { scorer?: unknown }).scorer === oracleScorer)
      return (stored as { examples: OracleExample[] }).examples;
    // Written before the scorer measured the true NLL (a bare array): those numbers ranked mixes wrongly.
    this.deps.log?.('info', 'modulator: held-out examples measured by an older scorer are dropped; the next fit measures them again');
    return [];
  }

  private async saveOracle(examples: readonly OracleExample[]): Promise<void> {
    await mkdir(dirname(this.oraclePath()), { recursive: true });
    await writeFileAtomic(this.oraclePath(), [new TextEncoder().encode(JSON.stringify({ scorer: oracleScorer, examples }))]);
  }

  async status(): Promise<ModulatorStatus> {
    const modulator = this.deps.modulator;
    const serving = await modulator.servingVersion();
    const [versions, counts, recent] = await Promise.all([listVersions(this.deps.db), decisionCounts(this.deps.db), recentDecisions(this.deps.db, 20)]);
    const stable = versions.find((row) => row.channel === 'stable');
    return {
      enabled: this.config.enabled,
      version: serving.version,
      channel: serving.version === 0 ? 'prior' : 'stable',
      params: serving.network.parameterCount,
      oracleGap: serving.version === 0 ? null : (stable?.metrics.oracleGap ?? null),
      levels: Array.from({ length: this.config.levels }, (_, level) => scaleOf(level, modulator.prior)),
      exploration: this.config.exploration,
      fallback: serving.fallback,
      online: { pending: counts.pending, learned: counts.learned, updates: this.updates, lastUpdateAt: counts.lastLearnedAt?.toISOString() ?? null },
      versions: versions.map((row) => ({
        version: row.version,
        channel: row.channel,
        origin: row.origin,
        parentVersion: row.parentVersion,
        params: row.params,
        metrics: row.metrics,
        reason: row.reason,
        createdAt: row.createdAt.toISOString(),
        promotedAt: row.promotedAt?.toISOString() ?? null,
      })),
      recent: recent.map((row) => ({
        interactionId: row.interactionId,
        createdAt: row.createdAt.toISOString(),
        question: row.question.slice(0, 200),
        project: row.project,
        version: row.version,
        source: row.source,
        scales: Object.fromEntries(row.candidates.map((candidate) => [candidate.name, candidate.scale])),
        retrieve: row.action.retrieve,
        explored: row.explored,
        cached: row.cached,
        reward: row.reward ?? null,
      })),
    };
  }
}

/** A logged decision as an off-policy sample, or null when its features no longer decode consistently. */
export function toSample(decision: Pick<RewardedDecision, 'features' | 'action' | 'propensity' | 'reward'>): LoggedSample | null {
  if (!decision.features || !Number.isFinite(decision.reward) || !(decision.propensity > 0)) return null;
  try {
    const input = decodeInput(decision.features as unknown as StoredInput);
    if (input.candidates.length !== decision.action.levels.length) return null;
    return { input, action: decision.action, propensity: decision.propensity, reward: decision.reward };
  } catch {
    return null;
  }
}

function actionProbability(output: ReturnType<ModulatorNetwork['forward']>['output'], action: Action): number {
  let probability = action.retrieve ? sigmoid(output.retrieve) : 1 - sigmoid(output.retrieve);
  output.levels.forEach((logits, index) => (probability *= softmax(logits)[action.levels[index]!] ?? 0));
  if (action.retrieve) probability *= softmax(output.budget)[action.budget] ?? 0;
  return probability;
}

/** A quarter of each project's held-out units measure the oracle gap; the rest are fitted on. */
function assignSplits(examples: OracleExample[]): OracleExample[] {
  const byProject = new Map<string, string[]>();
  for (const example of examples) {
    const units = byProject.get(example.project) ?? [];
    if (!units.includes(example.unit)) units.push(example.unit);
    byProject.set(example.project, units);
  }
  return examples.map((example) => {
    const units = byProject.get(example.project)!;
    const evaluated = units.length < 2 ? [] : units.filter((_, index) => index % 4 === 3 || (units.length < 4 && index === units.length - 1));
    return { ...example, split: evaluated.includes(example.unit) ? 'eval' : 'fit' };
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
