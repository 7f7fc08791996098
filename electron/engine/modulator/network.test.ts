import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../shared/random.js';
import { ModulatorNetwork, type NetworkInput, type NetworkOptions } from './network.js';
import { oracleRegret, policyGradient, retrievalLoss } from './policy.js';

const small: Partial<NetworkOptions> = {
  embedding: 12,
  context: 6,
  adapterFeatures: 5,
  ngramBuckets: 32,
  projectBuckets: 8,
  adapterBuckets: 8,
  hidden: 10,
  trunk: 8,
  adapterHidden: 6,
  pair: 7,
  levels: 3,
  budgetLevels: 2,
  seed: 3,
};

function randomInput(seed: number, candidates = 3): NetworkInput {
  const random = seededRandom(seed);
  const vector = (length: number) => Float32Array.from({ length }, () => random() * 2 - 1);
  return {
    embedding: vector(12),
    context: vector(6),
    ngrams: [1, 5, 9, 30],
    project: 3,
    retrievePrior: 0.5,
    budgetPrior: vector(2),
    candidates: Array.from({ length: candidates }, (_, index) => ({
      features: vector(5),
      centroid: index === 1 ? null : vector(12),
      bucket: index + 2,
      prior: vector(3),
    })),
  };
}

/** A network whose output layers are not zero, so every parameter gets a gradient. */
function trained(): ModulatorNetwork {
  const network = new ModulatorNetwork(small);
  const random = seededRandom(11);
  for (const values of Object.values(network.params)) for (let i = 0; i < values.length; i++) values[i] = (random() * 2 - 1) * 0.5;
  return network;
}

function loss(network: ModulatorNetwork, input: NetworkInput): number {
  network.weightsChanged();
  const { output } = network.forward(input);
  const grid = [
    [0, 1, 2],
    [2, 2, 0],
    [1, 0, 1],
  ];
  return oracleRegret(output, grid, [2.0, 1.7, 1.9]).loss + retrievalLoss(output, true).loss + output.budget[0]! * 0.3;
}

describe('the modulator network', () => {
  it('is exactly the prior when fresh: its outputs are the prior logits', () => {
    const network = new ModulatorNetwork(small);
    const input = randomInput(1);
    const { output } = network.forward(input);
    expect(output.retrieve).toBe(input.retrievePrior);
    expect([...output.budget]).toEqual([...input.budgetPrior]);
    output.levels.forEach((levels, index) => expect([...levels]).toEqual([...input.candidates[index]!.prior]));
  });

  it('computes gradients that match finite differences for every parameter tensor', () => {
    const network = trained();
    const input = randomInput(2);
    const { output, trace } = network.forward(input);
    const grid = [
      [0, 1, 2],
      [2, 2, 0],
      [1, 0, 1],
    ];
    const regret = oracleRegret(output, grid, [2.0, 1.7, 1.9]);
    const retrieve = retrievalLoss(output, true);
    network.backward(trace, { retrieve: retrieve.retrieve, budget: Float32Array.from([0.3, 0]), levels: regret.levels });
    const grads = (network as unknown as { grads: Record<string, Float32Array> }).grads;
    const epsilon = 1e-3;
    for (const [name, values] of Object.entries(network.params)) {
      const gradient = grads[name]!;
      // The largest-gradient entries of each tensor, where a wrong formula would show.
      const indices = [...gradient.keys()].sort((a, b) => Math.abs(gradient[b]!) - Math.abs(gradient[a]!)).slice(0, 3);
      for (const index of indices) {
        const saved = values[index]!;
        values[index] = saved + epsilon;
        const up = loss(network, input);
        values[index] = saved - epsilon;
        const down = loss(network, input);
        values[index] = saved;
        const numeric = (up - down) / (2 * epsilon);
        expect(Math.abs(numeric - gradient[index]!), `${name}[${index}]: numeric ${numeric}, analytic ${gradient[index]}`).toBeLessThan(
          2e-3 + 2e-2 * Math.abs(numeric),
        );
      }
    }
  });

  it('learns to prefer the mix with the lowest NLL', () => {
    const network = new ModulatorNetwork({ ...small, learningRate: 0.05 });
    const input = randomInput(4, 2);
    const grid = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => [a, b]));
    const nll = grid.map(([a, b]) => (a === 2 && b === 0 ? 1.8 : 2 + 0.05 * a! + 0.07 * b!));
    for (let step = 0; step < 200; step++) {
      const { output, trace } = network.forward(input);
      network.backward(trace, { retrieve: 0, budget: null, levels: oracleRegret(output, grid, nll).levels });
      network.step();
    }
    const { output } = network.forward(input);
    expect(output.levels.map((levels) => levels.indexOf(Math.max(...levels)))).toEqual([2, 0]);
  });

  it('drops a non-finite gradient whole instead of writing NaN into the weights', () => {
    const network = trained();
    const before = Float32Array.from(network.params.O);
    const { output, trace } = network.forward(randomInput(5));
    network.backward(trace, policyGradient(output, { levels: [0, 1, 2], retrieve: true, budget: 1 }, Number.NaN, 1, { retrieval: true, budget: true }));
    expect(network.step()).toMatchObject({ applied: false });
    expect([...network.params.O]).toEqual([...before]);
    expect(network.step()).toMatchObject({ applied: true, gradNorm: 0 });
  });

  it('round-trips through JSON, and refuses a damaged or foreign file', () => {
    const network = trained();
    const copy = ModulatorNetwork.fromJSON(JSON.parse(JSON.stringify(network.toJSON())));
    const input = randomInput(6);
    expect(copy.forward(input).output).toEqual(network.forward(input).output);
    expect(copy.parameterCount).toBe(network.parameterCount);
    expect(() => ModulatorNetwork.fromJSON({ kind: 'something-else' })).toThrow(/not an npllm modulator/);
    const json = network.toJSON();
    expect(() => ModulatorNetwork.fromJSON({ ...json, format: 99 })).toThrow(/format 99/);
    expect(() => ModulatorNetwork.fromJSON({ ...json, params: { ...json.params, W1: json.params.W1.slice(0, 16) } })).toThrow(/W1/);
    const nan = Float32Array.from(network.params.bO);
    nan[0] = Number.NaN;
    expect(() => ModulatorNetwork.fromJSON({ ...json, params: { ...json.params, bO: Buffer.from(nan.buffer).toString('base64') } })).toThrow(/non-finite/);
  });

  it('has between 1 and 5 million parameters with the default shape', () => {
    const count = new ModulatorNetwork().parameterCount;
    expect(count).toBeGreaterThanOrEqual(1_000_000);
    expect(count).toBeLessThanOrEqual(5_000_000);
  });
});
