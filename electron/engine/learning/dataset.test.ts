/** From training examples to learning texts: the held-out split by unit, the seeded order, replay amounts, rendering. */
import { describe, expect, it } from 'vitest';
import type { ChatExample, CodeExample } from '../data-collection/training-data.js';
import {
  charsPerToken,
  estimateTokens,
  heldOutSample,
  renderExample,
  replayCount,
  replayWeight,
  shuffled,
  splitHeldOut,
  type HeldOutText,
  type LearningText,
} from './dataset.js';
import { mixReplay } from './replay.js';

/** `chunks` texts per file, `tokens` each. */
function texts(files: Record<string, { chunks: number; tokens: number }>): LearningText[] {
  return Object.entries(files).flatMap(([unit, { chunks, tokens }]) =>
    Array.from({ length: chunks }, (_, index) => ({ kind: 'code' as const, unit, text: `${unit} chunk ${index}`, tokens })),
  );
}

function manyFiles(count: number): LearningText[] {
  return texts(
    Object.fromEntries(Array.from({ length: count }, (_, index) => [`src/file${index}.py`, { chunks: 1 + (index % 4), tokens: 50 + ((index * 37) % 200) }])),
  );
}

const units = (items: readonly LearningText[]) => new Set(items.map((item) => item.unit));
const tokens = (items: readonly LearningText[]) => items.reduce((sum, item) => sum + item.tokens, 0);

describe('splitHeldOut', () => {
  it('holds out whole files: no file is on both sides, and every text lands on one side', () => {
    const all = manyFiles(40);
    const { train, heldOut } = splitHeldOut('/work/shop', all, 0.2);
    expect(heldOut.length).toBeGreaterThan(0);
    expect(train.length + heldOut.length).toBe(all.length);
    const trained = units(train);
    for (const unit of units(heldOut)) expect(trained.has(unit)).toBe(false);
    // Every chunk of a held-out file is held out.
    for (const unit of units(heldOut)) expect(heldOut.filter((text) => text.unit === unit).length).toBe(all.filter((text) => text.unit === unit).length);
  });

  it('is deterministic per project and unit, whatever the order of the texts', () => {
    const all = manyFiles(40);
    const first = splitHeldOut('/work/shop', all, 0.2);
    const again = splitHeldOut('/work/shop', [...all].reverse(), 0.2);
    expect([...units(again.heldOut)].sort()).toEqual([...units(first.heldOut)].sort());
    // Another project draws its own files (40 files: the same choice by chance is negligible).
    const other = splitHeldOut('/work/crm', all, 0.2);
    expect([...units(other.heldOut)].sort()).not.toEqual([...units(first.heldOut)].sort());
    // The split keeps the texts' order within each side.
    expect(first.train).toEqual(all.filter((text) => !units(first.heldOut).has(text.unit)));
  });

  it('keeps the held-out tokens within the share of the project', () => {
    for (const share of [0.05, 0.2, 0.5]) {
      const all = manyFiles(60);
      const { heldOut } = splitHeldOut('/work/pos', all, share);
      expect(heldOut.length).toBeGreaterThan(0);
      expect(tokens(heldOut)).toBeLessThanOrEqual(share * tokens(all));
    }
  });

  it('gives a tiny project one held-out and one training file even when no file fits the share', () => {
    const two = texts({ 'a.py': { chunks: 3, tokens: 400 }, 'b.py': { chunks: 1, tokens: 300 } });
    const split = splitHeldOut('/tiny', two, 0.2);
    // Neither file fits in 20 %: the smaller one is held out.
    expect([...units(split.heldOut)]).toEqual(['b.py']);
    expect([...units(split.train)]).toEqual(['a.py']);

    // Everything fits (share 0.5 of two equal files would hold out one; both fit only at share ≥ 1): one stays trained.
    const equal = texts({ 'a.py': { chunks: 1, tokens: 100 }, 'b.py': { chunks: 1, tokens: 100 } });
    const whole = splitHeldOut('/tiny', equal, 1);
    expect(units(whole.heldOut).size).toBe(1);
    expect(units(whole.train).size).toBe(1);
  });

  it('holds nothing out of a single file, and nothing of nothing', () => {
    const one = texts({ 'only.py': { chunks: 5, tokens: 100 } });
    expect(splitHeldOut('/one', one, 0.2)).toEqual({ train: one, heldOut: [] });
    expect(splitHeldOut('/none', [], 0.2)).toEqual({ train: [], heldOut: [] });
  });

  it('splits chat examples by conversation', () => {
    const chats: LearningText[] = Array.from({ length: 30 }, (_, index) => ({
      kind: 'accepted',
      unit: `chat:${index % 10}`,
      text: `turn ${index}`,
      tokens: 20,
    }));
    const { train, heldOut } = splitHeldOut('/work/shop', chats, 0.2);
    expect(heldOut.length).toBeGreaterThan(0);
    const trained = units(train);
    for (const unit of units(heldOut)) expect(trained.has(unit)).toBe(false);
  });
});

describe('shuffled', () => {
  const items = Array.from({ length: 50 }, (_, index) => index);

  it('is a permutation that a seed repeats, without touching its input', () => {
    const copy = [...items];
    const once = shuffled(items, 42);
    expect(items).toEqual(copy);
    expect([...once].sort((a, b) => a - b)).toEqual(items);
    expect(once).not.toEqual(items);
    expect(shuffled(items, 42)).toEqual(once);
    expect(shuffled(items, 43)).not.toEqual(once);
  });

  it('handles empty and one-element lists', () => {
    expect(shuffled([], 1)).toEqual([]);
    expect(shuffled(['x'], 1)).toEqual(['x']);
  });
});

describe('replayCount', () => {
  it('asks for exactly the replayed texts mixReplay puts in, each once', () => {
    for (const batchSize of [2, 4, 8]) {
      for (const ratio of [0, 0.1, 0.25, 0.5, 0.9, 1]) {
        for (const current of [1, 3, 4, 7, 30, 101]) {
          const count = replayCount(current, ratio, batchSize);
          const replay = Array.from({ length: count }, (_, index) => `R${index}`);
          const mixed = mixReplay(
            Array.from({ length: current }, (_, index) => `C${index}`),
            replay,
            { batchSize, ratio },
          );
          const replayed = mixed.filter((text) => text.startsWith('R'));
          expect(replayed, `batch ${batchSize}, ratio ${ratio}, ${current} current`).toEqual(replay);
          expect(mixed.length - replayed.length).toBe(current);
        }
      }
    }
  });

  it('follows the ratio: a quarter of every batch of 4, none at ratio 0, at most batch − 1 per batch', () => {
    expect(replayCount(30, 0.25, 4)).toBe(10);
    expect(replayCount(31, 0.25, 4)).toBe(11);
    expect(replayCount(30, 0, 4)).toBe(0);
    // Ratio 1 still leaves one current text per batch of 4: three replayed for each.
    expect(replayCount(3, 1, 4)).toBe(9);
    expect(replayCount(6, 0.9, 4)).toBe(18);
    expect(replayCount(0, 0.25, 4)).toBe(0);
  });
});

describe('renderExample', () => {
  it('keeps code as it is, its file as the unit', () => {
    const code: CodeExample = {
      kind: 'code',
      project: '/p',
      hash: 'h',
      path: 'models/sale.py',
      language: 'python',
      symbol: 'SaleOrder',
      startLine: 1,
      endLine: 9,
      text: 'class SaleOrder:\n    pass\n',
    };
    expect(renderExample(code)).toEqual({ kind: 'code', unit: 'models/sale.py', text: code.text, tokens: estimateTokens(code.text) });
    expect(estimateTokens(code.text)).toBe(Math.ceil(code.text.length / 3.2));
  });

  it('renders a conversation as plain dialogue ending with the answer, its interaction as the unit', () => {
    const chat: ChatExample = {
      kind: 'correction',
      project: '/p',
      hash: 'h',
      interactionId: 'abc',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Add a field?' },
        { role: 'assistant', content: 'Which model?' },
        { role: 'user', content: 'sale.order' },
      ],
      completion: 'priority = fields.Integer()',
      reward: 1,
      correctedBy: 'edit',
    };
    const rendered = renderExample(chat);
    expect(rendered.kind).toBe('correction');
    expect(rendered.unit).toBe('chat:abc');
    expect(rendered.text).toBe(
      'system: Be brief.\n\nuser: Add a field?\n\nassistant: Which model?\n\nuser: sale.order\n\nassistant: priority = fields.Integer()',
    );
    // No chat-template markers: the trainer would learn their pieces instead of the markers.
    expect(rendered.text).not.toMatch(/<\|im_start\|>/);
    expect(rendered.tokens).toBe(estimateTokens(rendered.text));
    expect(renderExample({ ...chat, kind: 'accepted' }).kind).toBe('accepted');
  });
});

describe('replayWeight', () => {
  it('weighs corrections over accepted answers over code', () => {
    expect([replayWeight('correction'), replayWeight('accepted'), replayWeight('code')]).toEqual([3, 2, 1]);
  });
});

/** A file of `lines` numbered lines of about 40 characters. */
function file(unit: string, lines: number): HeldOutText {
  return {
    unit,
    text: Array.from({ length: lines }, (_, index) => `${unit} line ${String(index).padStart(5, '0')} ${'x'.repeat(16)}`.slice(0, 39)).join('\n') + '\n',
  };
}

describe('heldOutSample', () => {
  const ctx = 128;
  const windowChars = Math.round(ctx * charsPerToken);
  // 400 + 1600 + 6000 lines: 16 k, 64 k and 240 k characters.
  const heldOut = [file('small.py', 400), file('medium.py', 1600), file('large.py', 6000)];
  const total = heldOut.reduce((sum, text) => sum + text.text.length, 0);

  it('scores everything, whole, when it fits the window budget', () => {
    const sample = heldOutSample(heldOut, { windows: Math.ceil(total / windowChars), ctx, groups: 2, seed: 1 });
    expect(sample).toMatchObject({ whole: true, byFile: true, groups: 2, unitsScored: 3, units: 3 });
    expect(sample.texts.map((text) => text.text).sort()).toEqual(heldOut.map((text) => text.text).sort());
  });

  it('draws excerpts from every file in proportion to its size, about one window each, within the budget', () => {
    const sample = heldOutSample(heldOut, { windows: 40, ctx, groups: 3, seed: 7 });
    expect(sample.whole).toBe(false);
    expect(sample.texts).toHaveLength(40);
    const count = (unit: string) => sample.texts.filter((text) => text.unit === unit).length;
    // Systematic sampling: each file gets its expected count, rounded up or down (40 × 16/320 = 2, 8, 30).
    expect(count('small.py')).toBe(2);
    expect(count('medium.py')).toBe(8);
    expect(count('large.py')).toBe(30);
    for (const text of sample.texts) {
      expect(text.text.length).toBeGreaterThanOrEqual(windowChars);
      expect(text.text.length).toBeLessThan(windowChars + 40);
    }
    const chars = sample.texts.reduce((sum, text) => sum + text.text.length, 0);
    expect(chars).toBeLessThan(40 * (windowChars + 40));
  });

  it('cuts excerpts on line boundaries, from the files, without overlaps', () => {
    const sample = heldOutSample(heldOut, { windows: 40, ctx, groups: 3, seed: 7 });
    for (const unit of ['small.py', 'medium.py', 'large.py']) {
      const content = heldOut.find((text) => text.unit === unit)!.text;
      const spans = sample.texts
        .filter((text) => text.unit === unit)
        .map((text) => {
          const start = content.indexOf(text.text);
          expect(start).toBeGreaterThanOrEqual(0);
          expect(start === 0 || content[start - 1] === '\n').toBe(true);
          expect(text.text.endsWith('\n')).toBe(true);
          return [start, start + text.text.length] as const;
        })
        .sort((a, b) => a[0] - b[0]);
      for (let index = 1; index < spans.length; index++) expect(spans[index]![0]).toBeGreaterThanOrEqual(spans[index - 1]![1]);
    }
  });

  it('spreads the excerpts over a file rather than taking its start', () => {
    const sample = heldOutSample(heldOut, { windows: 40, ctx, groups: 3, seed: 7 });
    const large = heldOut[2]!.text;
    const starts = sample.texts.filter((text) => text.unit === 'large.py').map((text) => large.indexOf(text.text) / large.length);
    expect(Math.min(...starts)).toBeLessThan(0.1);
    expect(Math.max(...starts)).toBeGreaterThan(0.9);
  });

  it('repeats for a seed, whatever the order of the texts, and moves with another seed', () => {
    const one = heldOutSample(heldOut, { windows: 40, ctx, groups: 3, seed: 7 });
    expect(heldOutSample([...heldOut].reverse(), { windows: 40, ctx, groups: 3, seed: 7 })).toEqual(one);
    expect(heldOutSample(heldOut, { windows: 40, ctx, groups: 3, seed: 8 }).texts.map((text) => text.text)).not.toEqual(one.texts.map((text) => text.text));
  });

  it('groups whole files, balanced by size, when there are at least as many files as groups', () => {
    const many = Array.from({ length: 12 }, (_, index) => file(`f${index}.py`, 200 + index * 50));
    const sample = heldOutSample(many, { windows: 30, ctx, groups: 4, seed: 3 });
    expect(sample).toMatchObject({ byFile: true, groups: 4 });
    const groupsOf = new Map<string, Set<number>>();
    for (const text of sample.texts) groupsOf.set(text.unit, (groupsOf.get(text.unit) ?? new Set()).add(text.group));
    for (const groups of groupsOf.values()) expect(groups.size).toBe(1);
    const sizes = [0, 1, 2, 3].map((group) => sample.texts.filter((text) => text.group === group).reduce((sum, text) => sum + text.text.length, 0));
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(1.6);
  });

  it('deals windows round-robin when there are fewer files than groups, and never more groups than texts', () => {
    const sample = heldOutSample([file('only.py', 3000)], { windows: 16, ctx, groups: 8, seed: 1 });
    expect(sample).toMatchObject({ byFile: false, groups: 8, unitsScored: 1 });
    expect(sample.texts.map((text) => text.group)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
    const tiny = heldOutSample([{ unit: 'a.py', text: 'x = 1\n' }], { windows: 16, ctx, groups: 8, seed: 1 });
    expect(tiny).toMatchObject({ whole: true, groups: 1, byFile: true });
    expect(heldOutSample([], { windows: 16, ctx, groups: 8, seed: 1 }).texts).toEqual([]);
  });
});
