import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NpllmError } from '../../../../shared/errors.js';
import { classMetrics, confusionMatrix, loadEmotionSet } from './evaluate.js';

describe('loadEmotionSet', () => {
  const folders: string[] = [];
  const file = (content: string) => {
    const folder = mkdtempSync(join(tmpdir(), 'npllm-emotion-'));
    folders.push(folder);
    const path = join(folder, 'set.jsonl');
    writeFileSync(path, content);
    return path;
  };
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('reads one example per line, skipping blank lines', () => {
    const path = file('{"id":"a","lang":"en","label":"neutral","text":"ok"}\n\n{"id":"b","lang":"pt","label":"frustration","text":"não","previous":"como?"}\n');
    expect(loadEmotionSet(path)).toEqual([
      { id: 'a', lang: 'en', label: 'neutral', text: 'ok' },
      { id: 'b', lang: 'pt', label: 'frustration', text: 'não', previous: 'como?' },
    ]);
  });

  it('names a missing file and how to fix it', () => {
    const missing = join(tmpdir(), 'npllm-emotion-missing', 'nope.jsonl');
    const error = (() => {
      try {
        loadEmotionSet(missing);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NpllmError);
    expect((error as NpllmError).code).toBe('NOT_FOUND');
    expect((error as NpllmError).message).toContain(missing);
    expect((error as NpllmError).fix).toContain('--set');
  });

  it('names the line that is not JSON or not an example', () => {
    expect(() => loadEmotionSet(file('{"id":"a","lang":"en","label":"neutral","text":"ok"}\nnot json\n'))).toThrow(/set\.jsonl:2 is not valid JSON/);
    expect(() => loadEmotionSet(file('{"id":"a","lang":"fr","label":"neutral","text":"ok"}\n'))).toThrow(/set\.jsonl:1 is not an emotion example/);
    expect(() => loadEmotionSet(file('\n'))).toThrow(/is empty/);
  });
});

describe('classMetrics', () => {
  it('computes precision, recall and F1 per class from the confusion matrix', () => {
    const matrix = confusionMatrix([
      { truth: 'frustration', predicted: 'frustration' },
      { truth: 'frustration', predicted: 'frustration' },
      { truth: 'frustration', predicted: 'neutral' },
      { truth: 'neutral', predicted: 'frustration' },
      { truth: 'satisfaction', predicted: 'satisfaction' },
    ]);
    expect(matrix.frustration).toEqual({ frustration: 2, satisfaction: 0, neutral: 1 });
    const metrics = classMetrics(matrix);
    expect(metrics.frustration).toEqual({ precision: 0.667, recall: 0.667, f1: 0.667, support: 3 });
    expect(metrics.satisfaction).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 });
    expect(metrics.neutral).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });
});
