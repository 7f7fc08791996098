/**
 * Off-policy evaluation: how much reward a candidate network's greedy policy would have earned on
 * the logged decisions, without serving it. IPS (inverse propensity scoring, Horvitz–Thompson),
 * its self-normalised form, and doubly robust (Dudík et al. 2011) with a ridge-regression reward
 * model over a few action-aware features.
 */
import type { ModulatorNetwork, NetworkInput } from './network.js';
import { greedy, sameAction, type Action } from './policy.js';

export interface LoggedSample {
  input: NetworkInput;
  action: Action;
  /** Probability of `action` under the policy that logged it. */
  propensity: number;
  reward: number;
}

export interface PolicyValue {
  ips: number | null;
  snips: number | null;
  dr: number | null;
  /** Logged decisions where the candidate would have acted as logged. */
  matched: number;
  logged: number;
  /** Each logged decision's doubly robust term (their mean is `dr`), for paired comparisons. */
  drTerms: number[];
}

/** The value of `network`'s greedy policy on `samples`; nulls without samples. */
export function evaluatePolicy(network: ModulatorNetwork, samples: readonly LoggedSample[], rewardModel: RewardModel = RewardModel.fit(samples)): PolicyValue {
  if (samples.length === 0) return { ips: null, snips: null, dr: null, matched: 0, logged: 0, drTerms: [] };
  let ips = 0;
  let weights = 0;
  let dr = 0;
  let matched = 0;
  const drTerms: number[] = [];
  for (const sample of samples) {
    const chosen = greedy(network.forward(sample.input).output);
    const match = sameAction(chosen, sample.action);
    const weight = match ? 1 / Math.max(sample.propensity, 1e-3) : 0;
    if (match) matched++;
    ips += weight * sample.reward;
    weights += weight;
    const term = rewardModel.predict(sample.input, chosen) + weight * (sample.reward - rewardModel.predict(sample.input, sample.action));
    drTerms.push(term);
    dr += term;
  }
  return { ips: ips / samples.length, snips: weights > 0 ? ips / weights : null, dr: dr / samples.length, matched, logged: samples.length, drTerms };
}

/**
 * The doubly robust reward difference candidate − reference, sample by sample, as a mean and its
 * standard error: a promotion on rewards must clear the noise of the logs, not just be higher.
 * Both values must come from the same logs (`evaluatePolicy` on each network).
 */
export function drDifference(candidate: PolicyValue, reference: PolicyValue): { mean: number; standardError: number } | null {
  const n = candidate.drTerms.length;
  if (n < 2 || reference.drTerms.length !== n) return null;
  const differences = candidate.drTerms.map((term, index) => term - reference.drTerms[index]!);
  const mean = differences.reduce((sum, value) => sum + value, 0) / n;
  const variance = differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}

/**
 * r̂(x, a) = θ·φ(x, a): the retrieval choice crossed with what predicts whether retrieval helps,
 * and the scales crossed with what predicts whether an adapter helps (matching stack, user,
 * measured harm and gain, similarity to its centroid), averaged over candidates.
 */
export class RewardModel {
  private constructor(private readonly theta: Float64Array) {}

  static readonly dimensions = 16;

  static fit(samples: readonly LoggedSample[], lambda = 1): RewardModel {
    const n = RewardModel.dimensions;
    const a = new Float64Array(n * n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i * n + i] = lambda;
    for (const sample of samples) {
      const phi = RewardModel.features(sample.input, sample.action);
      for (let i = 0; i < n; i++) {
        b[i]! += phi[i]! * sample.reward;
        for (let j = 0; j < n; j++) a[i * n + j]! += phi[i]! * phi[j]!;
      }
    }
    return new RewardModel(solve(a, b, n));
  }

  predict(input: NetworkInput, action: Action): number {
    const phi = RewardModel.features(input, action);
    let value = 0;
    for (let i = 0; i < phi.length; i++) value += this.theta[i]! * phi[i]!;
    return Math.max(-1, Math.min(1, value));
  }

  static features(input: NetworkInput, action: Action): Float64Array {
    const phi = new Float64Array(RewardModel.dimensions);
    const c = input.context;
    const r = action.retrieve ? 1 : 0;
    phi[0] = 1;
    phi[1] = r;
    phi[2] = r * c[28]!; // the rule would retrieve
    phi[3] = r * c[24]!; // nearest distance
    phi[4] = r * c[8]!; // worded about the project
    phi[5] = r * c[5]!; // names project symbols
    phi[6] = r * (action.budget === 0 ? 1 : 0);
    const count = Math.max(1, input.candidates.length);
    input.candidates.forEach((candidate, index) => {
      const levels = candidate.prior.length;
      const s = levels > 1 ? (action.levels[index] ?? 0) / (levels - 1) : 0;
      const f = candidate.features;
      phi[7]! += s / count;
      phi[8]! += (s * f[22]!) / count; // a confirmed stack of the project
      phi[9]! += (s * f[24]!) / count; // the user adapter
      phi[10]! += (s * f[27]!) / count; // measured harmful here
      phi[11]! += (s * f[28]!) / count; // measured gain here
      phi[12]! += (s * f[30]!) / count; // question–centroid similarity
      phi[13]! += (s * f[34]!) / count; // … relative to the other candidates
      phi[14]! += (s * s) / count;
      phi[15]! += (s * c[29]!) / count; // the message's emotion
    });
    return phi;
  }
}

/** Solves A·x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = row;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    const diagonal = m[col * n + col]!;
    if (Math.abs(diagonal) < 1e-12) continue;
    for (let row = col + 1; row < n; row++) {
      const factor = m[row * n + col]! / diagonal;
      if (factor === 0) continue;
      for (let k = col; k < n; k++) m[row * n + k]! -= factor * m[col * n + k]!;
      x[row]! -= factor * x[col]!;
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    let sum = x[row]!;
    for (let k = row + 1; k < n; k++) sum -= m[row * n + k]! * x[k]!;
    const diagonal = m[row * n + row]!;
    x[row] = Math.abs(diagonal) < 1e-12 ? 0 : sum / diagonal;
  }
  return x;
}
