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

/** Characters per token that `estimateTokens` assumes. */
export const charsPerToken = 3.2;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / charsPerToken);
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

export interface HeldOutText {
  unit: string;
  text: string;
}

/** A held-out text as it is scored: an excerpt (or the whole text) and the evaluation group it belongs to. */
export interface SampledText extends HeldOutText {
  group: number;
}

export interface HeldOutSample {
  texts: SampledText[];
  groups: number;
  /** Every held-out text, whole (it fitted the budget), or a proportional sample of excerpts. */
  whole: boolean;
  /** Groups hold whole files (true), or windows dealt round-robin because there were fewer files than groups. */
  byFile: boolean;
  /** Held-out files with at least one scored excerpt, and all of them. */
  unitsScored: number;
  units: number;
}

/**
 * What a project's held-out set is scored on (learning/README.md, "Held-out sample"): all of it
 * when it fits `windows` windows of `ctx` tokens, otherwise `windows` excerpts of about one window
 * each, drawn by **systematic sampling proportional to size**: the files (in a seeded order) are
 * laid end to end, and an excerpt starts every total/windows characters from a seeded offset. Every
 * file larger than the step is scored, each in proportion to its size, and excerpts of one file
 * are spread over it — where the old scoring took the first windows of the alphabetically first
 * files. Excerpts start and end on line boundaries. The excerpts are then dealt into `groups`
 * groups of whole files, balanced by size, so that paired per-group changes measure how much a
 * comparison depends on which files happen to be held out. Pure: the same texts and seed give the
 * same sample, so every version of an adapter is scored on the same tokens.
 */
export function heldOutSample(heldOut: readonly HeldOutText[], options: { windows: number; ctx: number; groups: number; seed: number }): HeldOutSample {
  const contents = new Map<string, string[]>();
  for (const text of heldOut) {
    if (text.text.trim() === '') continue;
    const parts = contents.get(text.unit) ?? [];
    parts.push(text.text);
    contents.set(text.unit, parts);
  }
  const windowChars = Math.round(options.ctx * charsPerToken);
  const totalChars = heldOut.reduce((sum, text) => sum + text.text.length, 0);
  let excerpts: HeldOutText[];
  const whole = totalChars <= options.windows * windowChars;
  if (whole) {
    excerpts = heldOut.filter((text) => text.text.trim() !== '').map((text) => ({ unit: text.unit, text: text.text }));
  } else {
    const units = shuffled([...contents.keys()].sort(), options.seed).map((unit) => ({ unit, text: contents.get(unit)!.join('\n\n') }));
    const length = units.reduce((sum, unit) => sum + unit.text.length, 0);
    const step = length / options.windows;
    const random = seededRandom(options.seed ^ 0x5bd1e995);
    const offset = random() * step;
    excerpts = [];
    let unitIndex = 0;
    let unitStart = 0;
    let lastEnd = 0;
    for (let index = 0; index < options.windows; index++) {
      const point = offset + index * step;
      while (unitIndex < units.length - 1 && point >= unitStart + units[unitIndex]!.text.length) {
        unitStart += units[unitIndex]!.text.length;
        unitIndex++;
        lastEnd = 0;
      }
      const { unit, text } = units[unitIndex]!;
      // Near a file's end the excerpt moves back so that it still spans a window, but never over the previous one.
      const at = Math.max(lastEnd, Math.min(Math.floor(point - unitStart), text.length - windowChars));
      const start = at <= 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
      const newline = text.indexOf('\n', Math.max(start + windowChars - 1, 0));
      const end = newline === -1 ? text.length : newline + 1;
      const excerpt = text.slice(Math.max(start, lastEnd), end);
      lastEnd = end;
      if (excerpt.trim() !== '') excerpts.push({ unit, text: excerpt });
    }
  }

  const scored = [...new Set(excerpts.map((text) => text.unit))];
  const groups = Math.max(1, Math.min(options.groups, excerpts.length));
  const byFile = scored.length >= groups;
  const groupOf = new Map<string, number>();
  if (byFile) {
    // Largest files first, each to the lightest group: groups of similar size, each of whole files.
    const size = new Map<string, number>();
    for (const text of excerpts) size.set(text.unit, (size.get(text.unit) ?? 0) + text.text.length);
    const load = new Array<number>(groups).fill(0);
    for (const unit of [...scored].sort((a, b) => size.get(b)! - size.get(a)! || (a < b ? -1 : 1))) {
      const lightest = load.indexOf(Math.min(...load));
      groupOf.set(unit, lightest);
      load[lightest]! += size.get(unit)!;
    }
  }
  return {
    texts: excerpts.map((text, index) => ({ ...text, group: byFile ? groupOf.get(text.unit)! : index % groups })),
    groups,
    whole,
    byFile,
    unitsScored: scored.length,
    units: contents.size,
  };
}
