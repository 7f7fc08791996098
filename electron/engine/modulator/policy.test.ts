import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../shared/random.js';
import { decodeInput, encodeInput, ngramBuckets } from './features.js';
import type { NetworkOutput } from './network.js';
import { evaluatePolicy, RewardModel, type LoggedSample } from './ope.js';
import { ModulatorNetwork } from './network.js';
import { behaviourProbability, explore, greedy, sameAction, type Action } from './policy.js';
import { levelOf, priorScales, scaleOf } from './prior.js';

const output: NetworkOutput = {
  retrieve: -1.2,
  budget: Float32Array.from([0, 2]),
  levels: [Float32Array.from([0, 1, 3]), Float32Array.from([2, 0.5, 0]), Float32Array.from([0.1, 0.2, 0.3])],
};

describe('exploration', () => {
  it('moves one adapter by one level or flips retrieval, and its propensities are a distribution', () => {
    const random = seededRandom(9);
    const base = greedy(output);
    const seen = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const { action, propensity } = explore(output, { rate: 0.2, retrieval: true }, random);
      const moved = action.levels.filter((level, index) => level !== base.levels[index]).length + (action.retrieve !== base.retrieve ? 1 : 0);
      expect(moved).toBeLessThanOrEqual(1);
      action.levels.forEach((level, index) => expect(Math.abs(level - base.levels[index]!)).toBeLessThanOrEqual(1));
      expect(propensity).toBeCloseTo(behaviourProbability(output, action, { rate: 0.2, retrieval: true }), 12);
      seen.set(JSON.stringify(action), propensity);
    }
    // Every action explore can take, once: their probabilities add up to one.
    expect([...seen.values()].reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 10);
  });

  it('never explores at rate 0, and the greedy action then has propensity 1', () => {
    const { action, propensity, explored } = explore(output, { rate: 0, retrieval: true }, seededRandom(1));
    expect(explored).toBe(false);
    expect(propensity).toBe(1);
    expect(sameAction(action, greedy(output))).toBe(true);
  });
});

describe('the prior', () => {
  it("is today's rule: user and the project's stacks at the default scale, others off, a harmful version off, at most maxActive", () => {
    const settings = { levels: 3, maxScale: 1, strength: 3, defaultScale: 1, maxActive: 2 };
    const { scales, reasons } = priorScales(
      [
        { name: 'odoo', scope: 'odoo', harmful: false, harm: null },
        { name: 'react', scope: 'react', harmful: false, harm: null },
        { name: 'python', scope: 'python', harmful: true, harm: 0.05 },
        { name: 'mine', scope: 'user', harmful: false, harm: null },
        { name: 'extra', scope: 'user', harmful: false, harm: null },
      ],
      ['odoo', 'python'],
      settings,
    );
    expect(scales).toEqual([1, 0, 0, 1, 0]);
    expect(reasons.join(' ')).toMatch(/python off, measured 5.0 % worse/);
    expect([0, 0.5, 1].map((scale) => levelOf(scale, settings))).toEqual([0, 1, 2]);
    expect([0, 1, 2].map((level) => scaleOf(level, settings))).toEqual([0, 0.5, 1]);
  });
});

describe('features', () => {
  it('hash n-grams stably and survive storage unchanged', () => {
    expect(ngramBuckets('How do I write a QuerySet filter?', 1024)).toEqual(ngramBuckets('How do I write a QuerySet filter?', 1024));
    const network = new ModulatorNetwork({
      embedding: 4,
      context: 3,
      adapterFeatures: 2,
      ngramBuckets: 16,
      projectBuckets: 4,
      adapterBuckets: 4,
      hidden: 4,
      trunk: 4,
      adapterHidden: 3,
      pair: 3,
    });
    const input = {
      embedding: Float32Array.from([0.1, -0.2, 0.3, 0.4]),
      context: Float32Array.from([1, 0, 0.5]),
      ngrams: [1, 2],
      project: 3,
      retrievePrior: -3,
      budgetPrior: Float32Array.from([0, 3]),
      candidates: [{ features: Float32Array.from([1, 0]), centroid: Float32Array.from([0.5, 0.5, 0, 0]), bucket: 1, prior: Float32Array.from([0, 0, 3]) }],
    };
    const restored = decodeInput(JSON.parse(JSON.stringify(encodeInput(input))) as ReturnType<typeof encodeInput>);
    expect(network.forward(restored).output).toEqual(network.forward(input).output);
  });
});

describe('off-policy evaluation', () => {
  it('estimates a better policy as better from logs of another, by IPS and doubly robust', () => {
    // Logged by a policy that retrieves at random (propensity 0.5); retrieving earns 1 when the rule said so, else −1.
    const random = seededRandom(3);
    const network = new ModulatorNetwork({
      embedding: 4,
      context: 64,
      adapterFeatures: 36,
      ngramBuckets: 16,
      projectBuckets: 4,
      adapterBuckets: 4,
      hidden: 8,
      trunk: 8,
      adapterHidden: 4,
      pair: 4,
    });
    const samples: LoggedSample[] = Array.from({ length: 400 }, () => {
      const rule = random() < 0.5;
      const context = new Float32Array(64);
      context[28] = rule ? 1 : 0;
      const action: Action = { levels: [], retrieve: random() < 0.5, budget: 1 };
      return {
        input: { embedding: null, context, ngrams: [], project: null, retrievePrior: rule ? 3 : -3, budgetPrior: Float32Array.from([0, 3]), candidates: [] },
        action,
        propensity: 0.5,
        reward: action.retrieve === rule ? 1 : -1,
      };
    });
    const followsRule = evaluatePolicy(network, samples);
    expect(followsRule.ips!).toBeGreaterThan(0.8);
    expect(followsRule.dr!).toBeGreaterThan(0.8);
    const contrary = new ModulatorNetwork({ ...network.options });
    contrary.params.bR[0] = 0;
    contrary.params.wR.fill(0);
    const inverted = samples.map((sample) => ({ ...sample, input: { ...sample.input, retrievePrior: -sample.input.retrievePrior } }));
    expect(evaluatePolicy(contrary, inverted, RewardModel.fit(samples)).dr!).toBeLessThan(-0.5);
  });
});
