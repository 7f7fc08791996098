/**
 * The reward of one interaction, from the set of its feedback events (feedback/README.md):
 *
 *   s = w.copied·copied + w.inserted·inserted − w.edited·editRatio − w.regenerated·regenerated
 *       − w.corrected·corrected + w.dwell·min(1, dwell / saturation) − w.ignored·ignored
 *       + w.emotion·mean(valence of follow-up messages)
 *   reward = tanh(s)
 *
 * Every signal is a max, a flag or a mean over the events, so the reward depends on which events
 * arrived and never on their order; a late event simply recomputes it.
 */
import type { FeedbackEventType } from '../../../shared/contract.js';
import type { FeedbackConfig } from './config.js';

export interface RewardEvent {
  type: FeedbackEventType;
  value: number | null;
  /** edited: the user's final text, to measure against the answer. */
  text: string | null;
}

export interface RewardInput {
  answer: string | null;
  events: readonly RewardEvent[];
}

export type RewardWeights = FeedbackConfig['weights'];

export interface RewardOptions {
  weights: RewardWeights;
  dwellSaturationSeconds: number;
  /** Edit distance in characters between two texts. */
  editDistance: (a: string, b: string) => number;
}

export interface Reward {
  reward: number;
  components: Record<string, number>;
}

export function computeReward({ answer, events }: RewardInput, { weights, dwellSaturationSeconds, editDistance }: RewardOptions): Reward {
  const has = (type: FeedbackEventType) => events.some((event) => event.type === type);
  const components: Record<string, number> = {};
  const add = (name: string, contribution: number) => {
    if (contribution !== 0) components[name] = round(contribution);
  };

  add('copied', has('copied') ? weights.copied : 0);
  // Editing an inserted answer means it was inserted, whichever event arrived first.
  add('inserted', has('inserted') || has('edited') ? weights.inserted : 0);
  const editRatios = events.filter((event) => event.type === 'edited').map((event) => editRatio(event, answer ?? '', editDistance));
  add('edited', editRatios.length ? -weights.edited * Math.max(...editRatios) : 0);
  add('regenerated', has('regenerated') ? -weights.regenerated : 0);
  add('corrected', has('corrected') ? -weights.corrected : 0);
  const dwell = Math.max(0, ...events.filter((event) => event.type === 'dwell').map((event) => event.value ?? 0));
  add('dwell', weights.dwell * Math.min(1, dwell / dwellSaturationSeconds));
  add('ignored', has('ignored') ? -weights.ignored : 0);
  const valences = events.filter((event) => event.type === 'follow-up' && event.value !== null).map((event) => event.value!);
  add('emotion', valences.length ? weights.emotion * mean(valences) : 0);

  const sum = Object.values(components).reduce((total, value) => total + value, 0);
  return { reward: round(Math.tanh(sum)), components };
}

/**
 * Share of the answer the user changed, in [0, 1]: from their final text when they sent it (the
 * distance is then exact), else from the distance they measured, relative to the answer's length.
 */
function editRatio(event: RewardEvent, answer: string, editDistance: RewardOptions['editDistance']): number {
  if (event.text !== null) {
    const longest = Math.max(answer.length, event.text.length);
    return longest === 0 ? 0 : editDistance(answer, event.text) / longest;
  }
  return Math.min(1, Math.max(0, event.value ?? 0) / Math.max(1, answer.length));
}

function mean(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0) / values.length;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
