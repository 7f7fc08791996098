/**
 * The modulator on the critical path (modulator/README.md): per question, which candidate adapters
 * speak and how loud, whether to retrieve and with what budget, and why. The stable network
 * decides; anything wrong with it (no version, a corrupt or foreign file, a NaN) hands the
 * decision to the prior with the reason logged — an answer never fails because of the modulator.
 */
import type { ModulatorReport } from '../../../shared/contract.js';
import { toNpllmError } from '../../../shared/errors.js';
import { seededRandom } from '../../../shared/random.js';
import type { LogLevel } from '../base/log.js';
import type { Db } from '../db/client.js';
import type { ProfileLookup } from '../project/profile.js';
import type { ModulatorConfig } from './config.js';
import { encodeInput } from './features.js';
import { buildInput, type AdapterCandidate, type CandidateKnowledge, type QuestionContext } from './inputs.js';
import { defaults as networkDefaults, type ModulatorNetwork, type NetworkInput, type NetworkOptions, type NetworkOutput } from './network.js';
import { explore, greedy, probabilities, sameAction, type Action } from './policy.js';
import { levelOf, priorScales, scaleOf, type PriorSettings } from './prior.js';
import { adapterProjects, insertDecision, projectEvaluations, projectsCentroid, type NewDecisionRow } from './queries.js';
import { ModulatorStore, type LoadedVersion } from './store.js';

export interface PlannedAdapter extends AdapterCandidate {
  scale: number;
  priorScale: number;
}

export interface ModulatorPlan {
  version: number;
  source: 'network' | 'prior';
  adapters: PlannedAdapter[];
  retrieve: boolean;
  /** Share of the retrieval budget (rag.contextTokens) the answer may use. */
  budgetFraction: number;
  /** Retrieval reasons of the rule-based gate, which the report keeps. */
  ruleReasons: string[];
  /** The project's index can be searched: only then may exploration flip retrieval. */
  retrievable: boolean;
  reasons: string[];
  action: Action;
  greedy: Action;
  propensity: number;
  explored: boolean;
  input: NetworkInput | null;
  output: NetworkOutput | null;
}

export type PlanRequest = Omit<QuestionContext, 'stacks'> & { candidates: readonly AdapterCandidate[]; ruleReasons: string[] };

export interface ModulatorDeps {
  db: Db;
  home: string;
  config: ModulatorConfig;
  /** Today's serving rule, the prior's: every matching adapter at this scale, at most this many. */
  serving: { defaultScale: number; maxActive: number };
  profiles: ProfileLookup;
  log?: (level: LogLevel, message: string) => void;
  random?: () => number;
}

/** How long the serving version is trusted before the database is asked again (another process may promote). */
const recheckMs = 30_000;

export class Modulator {
  readonly store: ModulatorStore;
  readonly shape: NetworkOptions;
  readonly prior: PriorSettings;
  private serving: { loaded: Promise<LoadedVersion>; at: number } | undefined;
  private readonly centroids = new Map<string, Float32Array | null>();
  private readonly pendingCentroids = new Set<string>();
  private readonly random: () => number;
  private lastFallback: string | null = null;

  constructor(private readonly deps: ModulatorDeps) {
    this.shape = { ...networkDefaults(), levels: deps.config.levels };
    this.prior = {
      levels: deps.config.levels,
      maxScale: deps.config.maxScale,
      strength: deps.config.priorStrength,
      defaultScale: deps.serving.defaultScale,
      maxActive: deps.serving.maxActive,
    };
    this.store = new ModulatorStore(deps.db, deps.home, this.shape);
    this.random = deps.random ?? seededRandom(Date.now() & 0xffffffff);
  }

  get config(): ModulatorConfig {
    return this.deps.config;
  }

  /** The version that plans answers (cached; re-read after a promotion or every 30 s). */
  servingVersion(): Promise<LoadedVersion> {
    const now = Date.now();
    if (!this.serving || now - this.serving.at > recheckMs) {
      const loaded = this.loadServing();
      this.serving = { loaded, at: now };
    }
    return this.serving.loaded;
  }

  /** After a promotion in this process: the next question reads the new stable version. */
  invalidate(): void {
    this.serving = undefined;
  }

  private async loadServing(): Promise<LoadedVersion> {
    const previous = await this.serving?.loaded.catch(() => undefined);
    const row = await this.store.stableRow();
    if (previous && row && previous.version === row.version && !previous.fallback) return previous;
    const loaded = await this.store.loadStable();
    if (loaded.fallback && loaded.fallback !== this.lastFallback) this.deps.log?.('warn', `modulator: answering with the prior: ${loaded.fallback}`);
    this.lastFallback = loaded.fallback;
    return loaded;
  }

  /** The plan for one question; never throws (the prior decides when anything fails). */
  async plan(request: PlanRequest): Promise<ModulatorPlan> {
    const candidates = request.candidates.slice(0, this.deps.config.maxCandidates);
    let stacks: QuestionContext['stacks'] = [];
    let knowledge: CandidateKnowledge[] = candidates.map(() => ({ harm: null, harmful: false, gain: null, centroid: null }));
    try {
      if (request.project) {
        stacks = (await this.deps.profiles.profileOf(request.project))?.stacks ?? [];
        knowledge = await this.knowledge(request.project, candidates);
      } else knowledge = candidates.map((candidate) => ({ harm: null, harmful: false, gain: null, centroid: this.centroid(candidate) }));
    } catch (error) {
      this.deps.log?.('warn', `modulator: project knowledge unavailable, planning without it: ${toNpllmError(error).message}`);
    }
    if (!this.deps.config.enabled) return this.priorPlan(request, candidates, stacks, knowledge, 'the modulator is disabled (modulator.enabled)');
    try {
      const serving = await this.servingVersion();
      if (serving.fallback) return this.priorPlan(request, candidates, stacks, knowledge, `stable version unusable: ${serving.fallback}`);
      const built = buildInput({ ...request, stacks }, candidates, knowledge, this.shape, this.prior);
      const { output } = serving.network.forward(built.input);
      if (!finiteOutput(output)) throw new Error('the network produced a non-finite output');
      const action = limitActive(greedy(output), output, this.prior.maxActive);
      return this.toPlan(serving.version, request, candidates, built.priorScales, [...built.priorReasons], action, built.input, output);
    } catch (error) {
      const reason = toNpllmError(error).message;
      this.deps.log?.('warn', `modulator: the prior decides this question: ${reason}`);
      return this.priorPlan(request, candidates, stacks, knowledge, reason);
    }
  }

  /**
   * After a cache miss only: with probability `exploration`, one adapter moves one level or
   * retrieval flips. The plan's propensity becomes the behaviour probability of what it does.
   */
  explore(plan: ModulatorPlan): ModulatorPlan {
    if (plan.source !== 'network' || !plan.output) return { ...plan, propensity: 1 };
    const chosen = explore(plan.output, { rate: this.deps.config.exploration, retrieval: this.deps.config.exploreRetrieval && plan.retrievable }, this.random);
    if (!chosen.explored) return { ...plan, propensity: chosen.propensity };
    const adapters = plan.adapters.map((adapter, index) => ({ ...adapter, scale: scaleOf(chosen.action.levels[index]!, this.prior) }));
    const moved = adapters.find((adapter, index) => adapter.scale !== plan.adapters[index]!.scale);
    const note = moved
      ? `exploring: ${moved.name} at ${moved.scale} instead of ${plan.adapters[adapters.indexOf(moved)]!.scale}`
      : `exploring: ${chosen.action.retrieve ? 'retrieving' : 'not retrieving'} against the plan`;
    return {
      ...plan,
      adapters,
      action: chosen.action,
      retrieve: chosen.action.retrieve,
      propensity: chosen.propensity,
      explored: true,
      reasons: [...plan.reasons, note],
    };
  }

  report(plan: ModulatorPlan): ModulatorReport {
    return {
      version: plan.version,
      retrieve: plan.retrieve,
      scales: Object.fromEntries(plan.adapters.map((adapter) => [adapter.name, adapter.scale])),
      reasons: plan.reasons,
      source: plan.source,
      explored: plan.explored,
      propensity: round(plan.propensity),
    };
  }

  /** Keeps the decision with its interaction; a failure is logged, never the answer's. */
  async record(interactionId: string, plan: ModulatorPlan, cached: boolean): Promise<void> {
    try {
      await insertDecision(this.deps.db, this.decisionRow(interactionId, plan, cached));
    } catch (error) {
      this.deps.log?.('warn', `modulator: decision of ${interactionId} not recorded: ${toNpllmError(error).message}`);
    }
  }

  /** The row that keeps the decision with its interaction (a cached answer never explored: propensity 1). */
  decisionRow(interactionId: string, plan: ModulatorPlan, cached: boolean): NewDecisionRow {
    return {
      interactionId,
      version: plan.version,
      source: plan.source,
      features: plan.input ? (encodeInput(plan.input) as unknown as Record<string, unknown>) : null,
      candidates: plan.adapters.map((adapter) => ({ name: adapter.name, version: adapter.version, scale: adapter.scale })),
      action: plan.action,
      greedy: plan.greedy,
      propensity: cached ? 1 : plan.propensity,
      explored: plan.explored,
      cached,
      reasons: plan.reasons,
    };
  }

  private toPlan(
    version: number,
    request: PlanRequest,
    candidates: readonly AdapterCandidate[],
    prior: number[],
    reasons: string[],
    action: Action,
    input: NetworkInput | null,
    output: NetworkOutput | null,
  ): ModulatorPlan {
    const adapters = candidates.map((candidate, index) => ({ ...candidate, scale: scaleOf(action.levels[index]!, this.prior), priorScale: prior[index]! }));
    const probs = output ? probabilities(output) : null;
    for (const [index, adapter] of adapters.entries()) {
      if (adapter.scale === adapter.priorScale) continue;
      const confidence = probs ? ` (p ${probs.levels[index]![action.levels[index]!]!.toFixed(2)})` : '';
      reasons.push(`${adapter.name} v${adapter.version} at ${adapter.scale} instead of the rule's ${adapter.priorScale}${confidence}`);
    }
    const ruleRetrieve = input ? input.retrievePrior > 0 : action.retrieve;
    if (probs && action.retrieve !== ruleRetrieve)
      reasons.push(
        `${action.retrieve ? 'retrieving' : 'not retrieving'} against the rule (p ${(action.retrieve ? probs.retrieve : 1 - probs.retrieve).toFixed(2)})`,
      );
    if (action.retrieve && action.budget < this.shape.budgetLevels - 1) reasons.push(`retrieval budget ${Math.round(this.deps.config.smallBudget * 100)} %`);
    if (version === 0 && output) reasons.push('version 0: the network is still the prior');
    return {
      version,
      source: output ? 'network' : 'prior',
      adapters,
      retrieve: action.retrieve,
      budgetFraction: action.budget < this.shape.budgetLevels - 1 ? this.deps.config.smallBudget : 1,
      ruleReasons: request.ruleReasons,
      retrievable: request.probe.indexed,
      reasons,
      action,
      greedy: action,
      propensity: 1,
      explored: false,
      input,
      output,
    };
  }

  private priorPlan(
    request: PlanRequest,
    candidates: readonly AdapterCandidate[],
    stacks: QuestionContext['stacks'],
    knowledge: readonly CandidateKnowledge[],
    why: string,
  ): ModulatorPlan {
    const { scales, reasons } = priorScales(
      candidates.map((candidate, index) => ({
        name: candidate.name,
        scope: candidate.scope,
        harmful: knowledge[index]?.harmful ?? false,
        harm: knowledge[index]?.harm ?? null,
      })),
      stacks.map((stack) => stack.name),
      this.prior,
    );
    const action: Action = { levels: scales.map((scale) => levelOf(scale, this.prior)), retrieve: request.ruleRetrieve, budget: this.shape.budgetLevels - 1 };
    return this.toPlan(0, request, candidates, scales, [`prior: ${why}`, ...reasons], action, null, null);
  }

  /** Harm and gain measured on this project (learning's held-out matrix), and each candidate's centroid. */
  private async knowledge(project: string, candidates: readonly AdapterCandidate[]): Promise<CandidateKnowledge[]> {
    const cells = candidates.length ? await projectEvaluations(this.deps.db, project) : [];
    return candidates.map((candidate) => {
      const cell = cells.find((row) => row.adapterName === candidate.name && row.version === Number(candidate.version));
      const base = cell && cells.find((row) => row.adapterName === candidate.name && row.version === 0 && row.heldOutHash === cell.heldOutHash);
      const harm = cell && base && base.nll > 0 ? (cell.nll - base.nll) / base.nll : null;
      return { harm, harmful: harm !== null && harm > this.deps.config.harmTolerance, gain: harm === null ? null : -harm, centroid: this.centroid(candidate) };
    });
  }

  /** The mean embedding of what the adapter learned; computed once in the background (null until then). */
  private centroid(candidate: AdapterCandidate): Float32Array | null {
    const key = `${candidate.name}@${candidate.version}`;
    if (this.centroids.has(key)) return this.centroids.get(key)!;
    if (!this.pendingCentroids.has(key)) {
      this.pendingCentroids.add(key);
      void adapterProjects(this.deps.db, candidate.name, Number(candidate.version))
        .then((projects) => projectsCentroid(this.deps.db, projects))
        .then((centroid) => this.centroids.set(key, centroid))
        .catch((error: unknown) => this.deps.log?.('debug', `modulator: no centroid for ${key}: ${toNpllmError(error).message}`))
        .finally(() => this.pendingCentroids.delete(key));
    }
    return null;
  }

  /** For tests and the benchmark: a centroid known in advance. */
  setCentroid(candidate: Pick<AdapterCandidate, 'name' | 'version'>, centroid: Float32Array | null): void {
    this.centroids.set(`${candidate.name}@${candidate.version}`, centroid);
  }

  /** True when `a` and `b` apply the same adapters at the same scales and retrieve alike. */
  static samePlan(a: ModulatorPlan, b: ModulatorPlan): boolean {
    return sameAction(a.action, b.action);
  }

  /** The network that serves, for status and learning. */
  async network(): Promise<ModulatorNetwork> {
    return (await this.servingVersion()).network;
  }
}

/** At most `maxActive` adapters speak (adapters.maxActive): the least sure of the rest fall silent. */
function limitActive(action: Action, output: NetworkOutput, maxActive: number): Action {
  const active = action.levels.map((level, index) => ({ index, level, p: probabilities(output).levels[index]![level]! })).filter((entry) => entry.level > 0);
  if (active.length <= maxActive) return action;
  const levels = [...action.levels];
  for (const entry of active.sort((a, b) => b.p - a.p).slice(maxActive)) levels[entry.index] = 0;
  return { ...action, levels };
}

function finiteOutput(output: NetworkOutput): boolean {
  return Number.isFinite(output.retrieve) && [...output.budget].every(Number.isFinite) && output.levels.every((levels) => [...levels].every(Number.isFinite));
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
