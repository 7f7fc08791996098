/**
 * Labelled message sets (JSONL, one `{id, lang, label, text, previous?}` per line) and the
 * per-class precision, recall and F1 that bench/emotion.ts reports and the dev-set test guards.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { NpllmError } from '../../../../shared/errors.js';
import type { EmotionLabel } from './score.js';

export const emotionLabels = ['frustration', 'satisfaction', 'neutral'] as const satisfies readonly EmotionLabel[];

const exampleSchema = z.object({
  id: z.string().min(1),
  lang: z.enum(['en', 'pt']),
  label: z.enum(emotionLabels),
  text: z.string(),
  previous: z.string().optional(),
});

export type EmotionExample = z.infer<typeof exampleSchema>;

export function loadEmotionSet(path: string): EmotionExample[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new NpllmError('NOT_FOUND', `Cannot read the emotion set ${path}.`, {
      fix: 'Create it (one JSON object per line: {"id","lang":"en"|"pt","label":"frustration"|"satisfaction"|"neutral","text","previous"?}) or pass another file with --set PATH.',
      cause,
    });
  }
  const examples: EmotionExample[] = [];
  content.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (cause) {
      throw new NpllmError('REQUEST_INVALID', `${path}:${index + 1} is not valid JSON.`, { fix: 'Write one JSON object per line.', cause });
    }
    const result = exampleSchema.safeParse(parsed);
    if (!result.success) {
      throw new NpllmError('REQUEST_INVALID', `${path}:${index + 1} is not an emotion example: ${z.prettifyError(result.error)}`, {
        fix: 'Each line needs "id", "lang" ("en" or "pt"), "label" ("frustration", "satisfaction" or "neutral") and "text"; "previous" is optional.',
      });
    }
    examples.push(result.data);
  });
  if (examples.length === 0) throw new NpllmError('REQUEST_INVALID', `The emotion set ${path} is empty.`, { fix: 'Add at least one labelled message.' });
  return examples;
}

/** counts[truth][predicted] */
export type ConfusionMatrix = Record<EmotionLabel, Record<EmotionLabel, number>>;

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export function confusionMatrix(pairs: readonly { truth: EmotionLabel; predicted: EmotionLabel }[]): ConfusionMatrix {
  const row = () => ({ frustration: 0, satisfaction: 0, neutral: 0 });
  const matrix: ConfusionMatrix = { frustration: row(), satisfaction: row(), neutral: row() };
  for (const { truth, predicted } of pairs) matrix[truth][predicted] += 1;
  return matrix;
}

/** Precision and recall of a class that never occurs (or is never predicted) are 0, not NaN, so JSON stays valid. */
export function classMetrics(matrix: ConfusionMatrix): Record<EmotionLabel, ClassMetrics> {
  const metricsOf = (label: EmotionLabel): ClassMetrics => {
    const truePositives = matrix[label][label];
    const support = emotionLabels.reduce((total, predicted) => total + matrix[label][predicted], 0);
    const predictedCount = emotionLabels.reduce((total, truth) => total + matrix[truth][label], 0);
    const precision = predictedCount ? truePositives / predictedCount : 0;
    const recall = support ? truePositives / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision: round(precision), recall: round(recall), f1: round(f1), support };
  };
  return { frustration: metricsOf('frustration'), satisfaction: metricsOf('satisfaction'), neutral: metricsOf('neutral') };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
