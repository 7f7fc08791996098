import { describe, expect, it } from 'vitest';
import { defaults } from '../config/config.js';
import { boundedEditDistance } from './edit-distance.js';
import { computeReward, type RewardEvent } from './reward.js';

const options = { weights: defaults().feedback.weights, dwellSaturationSeconds: 60, editDistance: boundedEditDistance };
const event = (type: RewardEvent['type'], value: number | null = null, text: string | null = null): RewardEvent => ({ type, value, text });

describe('computeReward', () => {
  it('is tanh of the weighted signals and stays in [-1, 1]', () => {
    const all = computeReward({ answer: 'x', events: [event('copied'), event('inserted'), event('dwell', 600)] }, options);
    expect(all.reward).toBeCloseTo(Math.tanh(0.4 + 0.8 + 0.2), 4);
    const worst = computeReward({ answer: 'x', events: [event('regenerated'), event('corrected'), event('ignored'), event('follow-up', -1)] }, options);
    expect(worst.reward).toBeGreaterThanOrEqual(-1);
    expect(worst.reward).toBeLessThan(-0.95);
  });

  it('has no reward components without events', () => {
    expect(computeReward({ answer: 'x', events: [] }, options)).toEqual({ reward: 0, components: {} });
  });

  it('counts an edit as an insertion, less the share of the answer the user changed', () => {
    const answer = 'a'.repeat(100);
    const small = computeReward({ answer, events: [event('edited', null, `${'a'.repeat(90)}${'b'.repeat(10)}`)] }, options);
    expect(small.components).toEqual({ inserted: 0.8, edited: -0.08 });
    const byDistance = computeReward({ answer, events: [event('edited', 50)] }, options);
    expect(byDistance.components['edited']).toBeCloseTo(-0.4, 4);
    const rewritten = computeReward({ answer, events: [event('edited', 5000)] }, options);
    expect(rewritten.components['edited']).toBeCloseTo(-0.8, 4);
  });

  it('saturates dwell and takes the longest one', () => {
    const reward = computeReward({ answer: 'x', events: [event('dwell', 15), event('dwell', 30)] }, options);
    expect(reward.components['dwell']).toBeCloseTo(0.1, 4);
  });

  it('averages the valence of several follow-up messages', () => {
    const reward = computeReward({ answer: 'x', events: [event('follow-up', -1), event('follow-up', 0.5)] }, options);
    expect(reward.components['emotion']).toBeCloseTo(0.9 * -0.25, 4);
  });

  it('does not depend on the order of events', () => {
    const events = [event('copied'), event('follow-up', -0.6), event('edited', null, 'xy'), event('dwell', 12), event('regenerated')];
    const forward = computeReward({ answer: 'xyz', events }, options);
    expect(computeReward({ answer: 'xyz', events: [...events].reverse() }, options)).toEqual(forward);
  });
});

describe('boundedEditDistance', () => {
  it('is exact on short texts and bounded on long ones', () => {
    expect(boundedEditDistance('kitten', 'sitting')).toBe(3);
    const long = 'x'.repeat(30_000);
    expect(boundedEditDistance(long, `${long}yyy`, 20_000)).toBe(3);
    expect(boundedEditDistance('', 'abc')).toBe(3);
  });
});
