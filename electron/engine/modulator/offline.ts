/**
 * Offline learning from held-out evaluation (modulator/README.md "Learning"): for examples of each
 * learned project, the NLL of the reference under every mix of a grid of candidate scales names the
 * best mix (the oracle). The network is fitted by cross-entropy to per-adapter oracle targets
 * (policy.ts oracleTargets), and judged by the gap that remains on examples it was not fitted on.
 */
import type { StoredInput } from './features.js';
import { decodeInput } from './features.js';
import type { ModulatorNetwork, NetworkInput } from './network.js';
import { budgetLoss, greedy, oracleCrossEntropy, oracleTargets, retrievalLoss } from './policy.js';
import { seededRandom } from '../../../shared/random.js';

export interface OracleExample {
  /** Where it comes from (project and held-out unit): the split keeps a unit on one side. */
  project: string;
  unit: string;
  input: StoredInput;
  /** Candidate names in the input's order. */
  candidates: string[];
  /** Every mix measured: one level per candidate. */
  grid: number[][];
  /** Mean NLL of the reference under each mix of `grid`. */
  nll: number[];
  /** `fit`: the network learns from it; `eval`: the oracle gap is measured on it. */
  split: 'fit' | 'eval';
}

/** A retrieval example: did retrieved context lower the reference's NLL (and did the small budget suffice)? */
export interface RetrievalExample {
  input: NetworkInput;
  retrieveHelps: boolean;
  /** The budget level that sufficed, when retrieval helps. */
  budget: number | null;
}

export interface FitOptions {
  steps: number;
  batch: number;
  seed: number;
  /** Stop once the mean loss of the last 20 steps is below this. */
  threshold: number;
  /** Relative NLL gap at which the oracle target weighs a level e⁻¹ times the best one (policy.ts oracleTargets). */
  temperature: number;
  signal?: AbortSignal | undefined;
  onStep?: ((step: number, loss: number) => void) | undefined;
}

export function fitDefaults(): FitOptions {
  return { steps: 400, batch: 8, seed: 7, threshold: 0, temperature: 0.01, signal: undefined, onStep: undefined };
}

/**
 * The training loop (brain.js style: the network's `step()` apart from this loop): mini-batches of
 * oracle and retrieval examples, stopping at `steps`, the loss threshold or the abort signal.
 */
export function fit(
  network: ModulatorNetwork,
  data: { oracle?: readonly OracleExample[]; retrieval?: readonly RetrievalExample[] },
  options: Partial<FitOptions> = {},
): { steps: number; loss: number } {
  const o = { ...fitDefaults(), ...options };
  const oracle = (data.oracle ?? [])
    .filter((example) => example.split === 'fit')
    .map((example) => ({ input: decodeInput(example.input), targets: oracleTargets(example.grid, example.nll, network.options.levels, o.temperature) }));
  const retrieval = data.retrieval ?? [];
  const total = oracle.length + retrieval.length;
  if (total === 0) return { steps: 0, loss: 0 };
  const random = seededRandom(o.seed);
  const recent: number[] = [];
  let step = 0;
  for (; step < o.steps && !o.signal?.aborted; step++) {
    let loss = 0;
    for (let b = 0; b < o.batch; b++) {
      const pick = Math.floor(random() * total);
      if (pick < oracle.length) {
        const { input, targets } = oracle[pick]!;
        const { output, trace } = network.forward(input);
        const fitted = oracleCrossEntropy(output, targets);
        loss += fitted.loss;
        network.backward(trace, { retrieve: 0, budget: null, levels: fitted.levels });
      } else {
        const example = retrieval[pick - oracle.length]!;
        const { output, trace } = network.forward(example.input);
        const retrieve = retrievalLoss(output, example.retrieveHelps);
        const budget = example.retrieveHelps && example.budget !== null ? budgetLoss(output, example.budget, 0.5) : null;
        loss += retrieve.loss + (budget?.loss ?? 0);
        network.backward(trace, { retrieve: retrieve.retrieve, budget: budget?.budget ?? null, levels: input0(example.input) });
      }
    }
    network.step(o.batch);
    loss /= o.batch;
    o.onStep?.(step + 1, loss);
    recent.push(loss);
    if (recent.length > 20) recent.shift();
    if (recent.length === 20 && recent.reduce((sum, value) => sum + value, 0) / 20 < o.threshold) {
      step++;
      break;
    }
  }
  return { steps: step, loss: recent.length ? recent.reduce((sum, value) => sum + value, 0) / recent.length : 0 };
}

function input0(input: NetworkInput): null[] {
  return input.candidates.map(() => null);
}

export interface OracleMetrics {
  /** Mean of nll(chosen mix) / nll(oracle mix) − 1. */
  oracleGap: number | null;
  /** Share of examples whose chosen mix is within 2 % of the oracle's NLL. */
  withinTwoPercent: number | null;
  examples: number;
}

/** How far the network's greedy mixes are from the oracle on the `eval` split (or all examples). */
export function oracleMetrics(network: ModulatorNetwork, examples: readonly OracleExample[], split: 'eval' | 'all' = 'eval'): OracleMetrics {
  const chosen = examples.filter((example) => split === 'all' || example.split === 'eval');
  if (chosen.length === 0) return { oracleGap: null, withinTwoPercent: null, examples: 0 };
  let gap = 0;
  let within = 0;
  for (const example of chosen) {
    const levels = greedy(network.forward(decodeInput(example.input)).output).levels;
    const ratio = mixNll(example, levels) / Math.min(...example.nll) - 1;
    gap += ratio;
    if (ratio <= 0.02) within++;
  }
  return { oracleGap: gap / chosen.length, withinTwoPercent: within / chosen.length, examples: chosen.length };
}

/** The measured NLL of one mix of an example (the grid holds every mix of its levels). */
export function mixNll(example: Pick<OracleExample, 'grid' | 'nll'>, levels: readonly number[]): number {
  const index = example.grid.findIndex((mix) => mix.every((level, i) => level === levels[i]));
  if (index === -1) throw new RangeError(`mix [${levels.join(', ')}] was not measured`);
  return example.nll[index]!;
}

/** Every mix of `levels` levels over `count` candidates (levels^count of them). */
export function fullGrid(count: number, levels: number): number[][] {
  let grid: number[][] = [[]];
  for (let i = 0; i < count; i++) grid = grid.flatMap((mix) => Array.from({ length: levels }, (_, level) => [...mix, level]));
  return grid;
}
