/**
 * Online learning against a simulated user with hidden preferences, over sessions: each question
 * is a held-out example of one project (its real NLL under every mix is known); the user accepts
 * an answer with a probability that rises with its quality (the NLL gap to the best mix) and falls
 * with what they dislike but never say — the Odoo-trained `user` adapter speaking outside Odoo
 * projects. Accepted answers earn the reward an insert earns, rejected ones a regeneration's. The
 * product's own pieces decide and learn: bounded exploration, the off-policy update on a working
 * copy, and promotion between sessions only when doubly robust OPE on the logs and the oracle gap on
 * the held-out examples both say the copy is better (the product's rule, modulator/judge.ts).
 */
import { decodeInput } from '../electron/engine/modulator/features.js';
import { judge } from '../electron/engine/modulator/judge.js';
import { ModulatorLearner } from '../electron/engine/modulator/learner.js';
import { modulatorDefaults } from '../electron/engine/modulator/config.js';
import { ModulatorNetwork, type NetworkInput, type NetworkOptions } from '../electron/engine/modulator/network.js';
import { mixNll, type OracleExample } from '../electron/engine/modulator/offline.js';
import type { LoggedSample } from '../electron/engine/modulator/ope.js';
import { explore, type Action } from '../electron/engine/modulator/policy.js';
import { seededRandom } from '../shared/random.js';
import { round } from './measure.js';

export interface OnlineReport {
  sessions: number;
  questionsPerSession: number;
  /** Mean acceptance probability of the answers given, per session (mean over seeds). */
  acceptance: number[];
  /** Realised acceptances per session (mean over seeds). */
  accepted: number[];
  /** Per session, the rule's acceptance probability on the same questions, and the modulator's lift over it. */
  ruleBySession: number[];
  lift: number[];
  bestFixedAcceptance: number;
  ruleAcceptance: number;
  /** Σ over all questions of (best fixed policy's acceptance − the modulator's), mean over seeds. */
  regretVsBestFixed: number;
  regretVsRule: number;
  promotions: number[];
}

const accept = { reward: Math.tanh(0.6), rejectReward: -Math.tanh(0.5) };

/** The hidden user: quality from the real NLL, and a dislike of the `user` adapter outside its own projects. */
function acceptance(example: OracleExample, corpus: string, levels: readonly number[], userIndex: number): number {
  const best = Math.min(...example.nll);
  const gap = mixNll(example, levels) / best - 1;
  const disliked = corpus !== 'user' && levels[userIndex]! > 0 ? 0.35 : 0;
  return 1 / (1 + Math.exp(-(1.5 - 10 * gap - 2 * disliked)));
}

export function simulate(
  examples: readonly OracleExample[],
  corpusOf: (example: OracleExample) => string,
  options: { shape: NetworkOptions; sessions: number; questions: number; seeds: number; rule: (example: OracleExample) => number[] },
): OnlineReport {
  const config = modulatorDefaults();
  const userIndex = examples[0]!.candidates.indexOf('user');
  const corpora = [...new Set(examples.map(corpusOf))];
  const inputs = new Map<OracleExample, NetworkInput>(examples.map((example) => [example, decodeInput(example.input)]));
  const grid = examples[0]!.grid;
  const acceptanceBySession: number[][] = [];
  const acceptedBySession: number[][] = [];
  const ruleBySession: number[][] = [];
  const regrets: number[] = [];
  const ruleRegrets: number[] = [];
  const promotions: number[] = [];
  let bestFixedMean = 0;
  let ruleMean = 0;
  for (let seed = 1; seed <= options.seeds; seed++) {
    const random = seededRandom(1000 + seed);
    let stable = new ModulatorNetwork({ ...options.shape, seed });
    const working = { network: stable.clone() };
    working.network.options.learningRate = config.onlineLearningRate;
    const learner = new ModulatorLearner({
      modulator: { config: { ...config, maxImportanceWeight: config.maxImportanceWeight } },
    } as unknown as ConstructorParameters<typeof ModulatorLearner>[0]);
    const logs: LoggedSample[] = [];
    const asked: OracleExample[] = [];
    const chosenAcceptance: number[] = [];
    let promoted = 0;
    for (let session = 0; session < options.sessions; session++) {
      const corpus = corpora[session % corpora.length]!;
      const pool = examples.filter((example) => corpusOf(example) === corpus);
      const sessionAcceptance: number[] = [];
      const sessionAccepted: number[] = [];
      const sessionRule: number[] = [];
      for (let q = 0; q < options.questions; q++) {
        const example = pool[Math.floor(random() * pool.length)]!;
        const input = inputs.get(example)!;
        const { output } = stable.forward(input);
        const behaviour = explore(output, { rate: config.exploration, retrieval: false }, random);
        const p = acceptance(example, corpus, behaviour.action.levels, userIndex);
        const accepted = random() < p;
        const reward = accepted ? accept.reward : accept.rejectReward;
        sessionAcceptance.push(p);
        sessionRule.push(acceptance(example, corpus, options.rule(example), userIndex));
        sessionAccepted.push(accepted ? 1 : 0);
        chosenAcceptance.push(p);
        asked.push(example);
        const action: Action = behaviour.action;
        logs.push({ input, action, propensity: behaviour.propensity, reward });
        learner.update(working.network, {
          interactionId: `sim-${seed}-${session}-${q}`,
          features: example.input as unknown as Record<string, unknown>,
          action,
          propensity: behaviour.propensity,
          reward,
        });
      }
      acceptanceBySession[session] = [...(acceptanceBySession[session] ?? []), mean(sessionAcceptance)];
      acceptedBySession[session] = [...(acceptedBySession[session] ?? []), mean(sessionAccepted)];
      ruleBySession[session] = [...(ruleBySession[session] ?? []), mean(sessionRule)];
      const verdict = judge(
        working.network,
        stable,
        { oracle: examples, logs },
        { minLogged: config.minLoggedDecisions, gapTolerance: 0.002, rewardTolerance: 0.01 },
      );
      if (verdict.promote) {
        stable = working.network.clone();
        promoted++;
      }
    }
    // The best fixed policy in hindsight: the one mix that would have been accepted most often on these questions.
    const fixed = grid.map((mix) => mean(asked.map((example) => acceptance(example, corpusOf(example), mix, userIndex))));
    const bestFixed = Math.max(...fixed);
    const rule = mean(asked.map((example) => acceptance(example, corpusOf(example), options.rule(example), userIndex)));
    bestFixedMean += bestFixed / options.seeds;
    ruleMean += rule / options.seeds;
    regrets.push(asked.length * bestFixed - chosenAcceptance.reduce((sum, value) => sum + value, 0));
    ruleRegrets.push(asked.length * rule - chosenAcceptance.reduce((sum, value) => sum + value, 0));
    promotions.push(promoted);
  }
  return {
    sessions: options.sessions,
    questionsPerSession: options.questions,
    acceptance: acceptanceBySession.map((values) => round(mean(values), 3)),
    accepted: acceptedBySession.map((values) => round(mean(values), 3)),
    ruleBySession: ruleBySession.map((values) => round(mean(values), 3)),
    lift: acceptanceBySession.map((values, session) => round(mean(values) - mean(ruleBySession[session]!), 3)),
    bestFixedAcceptance: round(bestFixedMean, 3),
    ruleAcceptance: round(ruleMean, 3),
    regretVsBestFixed: round(mean(regrets), 2),
    regretVsRule: round(mean(ruleRegrets), 2),
    promotions,
  };
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;
}
