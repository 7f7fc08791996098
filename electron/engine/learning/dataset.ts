/**
 * From a project's training examples to the texts a consolidation trains on and judges by
 * (learning/README.md). The held-out set is chosen **by file** (and by conversation for chat
 * examples): chunks of one file share names and idioms, so a chunk-level split would judge the
 * adapter on text it has half seen. The choice hashes the path, so a file is held out in every
 * run, and earlier runs' numbers stay comparable.
 */
import { createHash } from 'node:crypto';
import { seededRandom } from '../../../shared/random.js';
import type { TrainingExample } from '../data-collection/training-data.js';

export interface LearningText {
  kind: TrainingExample['kind'];
  /** File path (code) or interaction id (chat): the unit of the held-out split. */
  unit: string;
  text: string;
  /** Estimated: llama-family tokenizers give about 3.2 characters per token on code. */
  tokens: number;
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3.2);
}

/**
 * Chat examples as plain dialogue. The trainer tokenizes without special tokens, so a ChatML
 * rendering would train on the marker's pieces rather than the markers the served template uses.
 */
export function renderExample(example: TrainingExample): LearningText {
  if (example.kind === 'code') return { kind: 'code', unit: example.path, text: example.text, tokens: estimateTokens(example.text) };
  const dialogue = [...example.messages.map((message) => `${message.role}: ${message.content}`), `assistant: ${example.completion}`].join('\n\n');
  return { kind: example.kind, unit: `chat:${example.interactionId}`, text: dialogue, tokens: estimateTokens(dialogue) };
}

/** A unit's position in [0, 1): fixed per project and unit. */
function unitDraw(project: string, unit: string): number {
  return createHash('sha256').update(project).update('\u0000').update(unit).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Holds out whole units, in the order of their draw, while they fit in `share` of the tokens (a
 * project of a few files would otherwise hold out half of itself when one big file draws low). With
 * two or more units at least one is held out (the smallest, if none fits) and at least one is
 * trained on, so even a tiny project is both learned and judged.
 */
export function splitHeldOut(project: string, texts: readonly LearningText[], share: number): { train: LearningText[]; heldOut: LearningText[] } {
  const tokensOf = new Map<string, number>();
  for (const text of texts) tokensOf.set(text.unit, (tokensOf.get(text.unit) ?? 0) + text.tokens);
  const units = [...tokensOf].map(([unit, tokens]) => ({ unit, tokens, draw: unitDraw(project, unit) })).sort((a, b) => a.draw - b.draw);
  const budget = share * units.reduce((sum, unit) => sum + unit.tokens, 0);
  const held = new Set<string>();
  let heldTokens = 0;
  for (const unit of units) {
    if (heldTokens + unit.tokens > budget) continue;
    held.add(unit.unit);
    heldTokens += unit.tokens;
  }
  if (units.length >= 2 && held.size === 0) held.add([...units].sort((a, b) => a.tokens - b.tokens || a.draw - b.draw)[0]!.unit);
  if (units.length >= 2 && held.size === units.length) held.delete(units.at(-1)!.unit);
  return { train: texts.filter((text) => !held.has(text.unit)), heldOut: texts.filter((text) => held.has(text.unit)) };
}

/** Fisher–Yates with a seed, so a restarted run trains in the same order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/** Replayed texts needed so that `ratio` of the mixed stream is replay (mixReplay's batches of `batchSize`). */
export function replayCount(currentTexts: number, ratio: number, batchSize: number): number {
  const perBatch = Math.min(batchSize - 1, Math.round(batchSize * Math.min(Math.max(ratio, 0), 1)));
  if (perBatch === 0) return 0;
  return Math.ceil(currentTexts / (batchSize - perBatch)) * perBatch;
}

/** Reservoir weight: what the user corrected or accepted is worth rehearsing more than plain code. */
export function replayWeight(kind: LearningText['kind']): number {
  return kind === 'correction' ? 3 : kind === 'accepted' ? 2 : 1;
}
