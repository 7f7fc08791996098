/**
 * From the network's logits to an action, and back: the greedy action, the bounded exploration
 * around it with its exact propensity, and the gradients of the three losses the modulator learns
 * from (modulator/README.md): expected regret over the oracle grid, retrieval labels, and the
 * off-policy policy gradient of a logged reward.
 */
import type { NetworkOutput, OutputGradient } from './network.js';

/** One decision as levels: a scale level per candidate, retrieve or not, a budget level. */
export interface Action {
  levels: number[];
  retrieve: boolean;
  budget: number;
}

export interface Probabilities {
  levels: Float64Array[];
  retrieve: number;
  budget: Float64Array;
}

export function probabilities(output: NetworkOutput): Probabilities {
  return { levels: output.levels.map(softmax), retrieve: sigmoid(output.retrieve), budget: softmax(output.budget) };
}

export function greedy(output: NetworkOutput): Action {
  return { levels: output.levels.map(argmax), retrieve: output.retrieve > 0, budget: argmax(output.budget) };
}

export function sameAction(a: Action, b: Action): boolean {
  return (
    a.retrieve === b.retrieve && a.budget === b.budget && a.levels.length === b.levels.length && a.levels.every((level, index) => level === b.levels[index])
  );
}

export interface ExplorationOptions {
  /** Share of uncached answers that try something other than the greedy action. */
  rate: number;
  /** Whether retrieval may be flipped (it then costs a retrieval or saves one). */
  retrieval: boolean;
}

/**
 * Safe exploration: with probability `rate`, one dimension (one adapter, or retrieval) moves —
 * an adapter by one level, drawn in proportion to the policy's own probabilities of the two
 * neighbours, retrieval by a flip. Everything else stays greedy. Returns the behaviour action and
 * its probability under this scheme (for IPS).
 */
export function explore(output: NetworkOutput, options: ExplorationOptions, random: () => number): { action: Action; propensity: number; explored: boolean } {
  const base = greedy(output);
  const dims = explorableDims(output, options);
  if (options.rate <= 0 || dims.length === 0 || random() >= options.rate)
    return { action: base, propensity: 1 - (dims.length ? options.rate : 0), explored: false };
  const dim = dims[Math.floor(random() * dims.length)]!;
  const action: Action = { levels: [...base.levels], retrieve: base.retrieve, budget: base.budget };
  if (dim === 'retrieve') {
    action.retrieve = !base.retrieve;
    return { action, propensity: options.rate / dims.length, explored: true };
  }
  const probs = softmax(output.levels[dim]!);
  const moves = neighbours(base.levels[dim]!, probs.length);
  const weights = moves.map((level) => probs[level]!);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let pick = random() * total;
  let chosen = moves.length - 1;
  for (let i = 0; i < moves.length; i++) {
    pick -= weights[i]!;
    if (pick <= 0) {
      chosen = i;
      break;
    }
  }
  action.levels[dim] = moves[chosen]!;
  return { action, propensity: (options.rate / dims.length) * (total > 0 ? weights[chosen]! / total : 1 / moves.length), explored: true };
}

/** The probability that `explore` picks `action` under `output` (for evaluating a policy on logs). */
export function behaviourProbability(output: NetworkOutput, action: Action, options: ExplorationOptions): number {
  const base = greedy(output);
  const dims = explorableDims(output, options);
  if (sameAction(base, action)) return 1 - (dims.length ? options.rate : 0);
  const differing: (number | 'retrieve')[] = [];
  action.levels.forEach((level, index) => level !== base.levels[index] && differing.push(index));
  if (action.retrieve !== base.retrieve) differing.push('retrieve');
  if (differing.length !== 1 || action.budget !== base.budget) return 0;
  const dim = differing[0]!;
  if (!dims.includes(dim)) return 0;
  if (dim === 'retrieve') return options.rate / dims.length;
  const probs = softmax(output.levels[dim]!);
  const moves = neighbours(base.levels[dim]!, probs.length);
  if (!moves.includes(action.levels[dim]!)) return 0;
  const total = moves.reduce((sum, level) => sum + probs[level]!, 0);
  return (options.rate / dims.length) * (total > 0 ? probs[action.levels[dim]!]! / total : 1 / moves.length);
}

function explorableDims(output: NetworkOutput, options: ExplorationOptions): (number | 'retrieve')[] {
  const dims: (number | 'retrieve')[] = output.levels.map((_, index) => index);
  if (options.retrieval) dims.push('retrieve');
  return dims;
}

function neighbours(level: number, count: number): number[] {
  return [level - 1, level + 1].filter((candidate) => candidate >= 0 && candidate < count);
}

/**
 * Expected relative regret over a grid of mixes: Σ_mix π(mix)·(nll(mix) − min)/min / Σ_mix π(mix),
 * with the factorised policy π(mix) = Π_a π_a(level_a), normalised over the mixes measured (the
 * full grid in practice, so the normaliser is 1). Returns the loss and the gradient for each
 * candidate's logits. `grid[i]` lists one level per candidate, `nll[i]` its measured NLL.
 */
export function oracleRegret(output: NetworkOutput, grid: readonly (readonly number[])[], nll: readonly number[]): { loss: number; levels: Float32Array[] } {
  const probs = output.levels.map(softmax);
  const best = Math.min(...nll);
  const regret = nll.map((value) => (value - best) / best);
  const mixProb = grid.map((mix) => mix.reduce((product, level, index) => product * probs[index]![level]!, 1));
  const mass = mixProb.reduce((sum, probability) => sum + probability, 0);
  if (!(mass > 0)) return { loss: 0, levels: probs.map((p) => new Float32Array(p.length)) };
  const loss = mixProb.reduce((sum, probability, i) => sum + probability * regret[i]!, 0) / mass;
  const levels = probs.map((p, index) => {
    const gradient = new Float32Array(p.length);
    grid.forEach((mix, i) => {
      const weight = (mixProb[i]! * (regret[i]! - loss)) / mass;
      if (weight === 0) return;
      for (let l = 0; l < p.length; l++) gradient[l]! += weight * ((mix[index] === l ? 1 : 0) - p[l]!);
    });
    return gradient;
  });
  return { loss, levels };
}

/**
 * The oracle as a target per candidate: for each level of that adapter, the best NLL any mix with it
 * at that level reaches; levels within a fraction `temperature` of the best get comparable weight
 * (softmax of −relative gap / temperature). The argmax of every target is the oracle mix's level,
 * and unlike expected regret, cross-entropy to it keeps a gradient when the policy is confidently
 * wrong (a saturated softmax).
 */
export function oracleTargets(grid: readonly (readonly number[])[], nll: readonly number[], levels: number, temperature: number): Float64Array[] {
  const count = grid[0]?.length ?? 0;
  const best = Math.min(...nll);
  return Array.from({ length: count }, (_, index) => {
    const reach = new Float64Array(levels).fill(Number.POSITIVE_INFINITY);
    grid.forEach((mix, i) => (reach[mix[index]!] = Math.min(reach[mix[index]!]!, nll[i]!)));
    return softmax(Array.from(reach, (value) => (Number.isFinite(value) ? -(value - best) / best / temperature : -1e9)));
  });
}

/** Cross-entropy of each candidate's level logits against its oracle target. */
export function oracleCrossEntropy(output: NetworkOutput, targets: readonly Float64Array[]): { loss: number; levels: Float32Array[] } {
  let loss = 0;
  const levels = output.levels.map((logits, index) => {
    const p = softmax(logits);
    const q = targets[index]!;
    const gradient = new Float32Array(p.length);
    for (let l = 0; l < p.length; l++) {
      gradient[l] = p[l]! - q[l]!;
      if (q[l]! > 0) loss -= q[l]! * Math.log(Math.max(p[l]!, 1e-12));
    }
    return gradient;
  });
  return { loss: loss / Math.max(1, output.levels.length), levels };
}

/** Binary cross-entropy of the retrieval logit against a label (1: retrieval lowered the NLL). */
export function retrievalLoss(output: NetworkOutput, label: boolean, weight = 1): { loss: number; retrieve: number } {
  const p = sigmoid(output.retrieve);
  const target = label ? 1 : 0;
  const loss = -weight * (target * Math.log(Math.max(p, 1e-7)) + (1 - target) * Math.log(Math.max(1 - p, 1e-7)));
  return { loss, retrieve: weight * (p - target) };
}

/** Cross-entropy of the budget logits against the level that sufficed. */
export function budgetLoss(output: NetworkOutput, level: number, weight = 1): { loss: number; budget: Float32Array } {
  const p = softmax(output.budget);
  const budget = new Float32Array(p.length);
  for (let l = 0; l < p.length; l++) budget[l] = weight * (p[l]! - (l === level ? 1 : 0));
  return { loss: -weight * Math.log(Math.max(p[level]!, 1e-7)), budget };
}

/**
 * Off-policy REINFORCE for one logged decision: minimises −w·(r − baseline)·log π(a|x), w the
 * clipped importance weight π(a|x)/μ(a|x) (treated as a constant), π the softmax policy the
 * network defines. Only the dimensions the action fixed get a gradient.
 */
export function policyGradient(
  output: NetworkOutput,
  action: Action,
  advantage: number,
  weight: number,
  options: { retrieval: boolean; budget: boolean },
): OutputGradient {
  // ∂(−w·A·log π)/∂logit_l = −w·A·(1[a = l] − π_l)
  const scale = -advantage * weight;
  const levels = output.levels.map((logits, index) => {
    const p = softmax(logits);
    const gradient = new Float32Array(p.length);
    for (let l = 0; l < p.length; l++) gradient[l] = scale * ((action.levels[index] === l ? 1 : 0) - p[l]!);
    return gradient;
  });
  const p = sigmoid(output.retrieve);
  const retrieve = options.retrieval ? scale * ((action.retrieve ? 1 : 0) - p) : 0;
  let budget: Float32Array | null = null;
  if (options.budget && action.retrieve) {
    const q = softmax(output.budget);
    budget = new Float32Array(q.length);
    for (let l = 0; l < q.length; l++) budget[l] = scale * ((action.budget === l ? 1 : 0) - q[l]!);
  }
  return { retrieve, budget, levels };
}

/** log π(a|x) of the softmax policy (levels, retrieval and, when retrieving, the budget). */
export function logPolicy(output: NetworkOutput, action: Action): number {
  let total = 0;
  output.levels.forEach((logits, index) => (total += Math.log(Math.max(softmax(logits)[action.levels[index]!]!, 1e-12))));
  const p = sigmoid(output.retrieve);
  total += Math.log(Math.max(action.retrieve ? p : 1 - p, 1e-12));
  if (action.retrieve) total += Math.log(Math.max(softmax(output.budget)[action.budget]!, 1e-12));
  return total;
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < logits.length; i++) out[i]! /= sum;
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
