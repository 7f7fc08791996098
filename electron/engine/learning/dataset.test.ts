/** From training examples to learning texts: the held-out split by unit, the seeded order, replay amounts, rendering. */
import { describe, expect, it } from 'vitest';
import type { ChatExample, CodeExample } from '../data-collection/training-data.js';
import { estimateTokens, renderExample, replayCount, replayWeight, shuffled, splitHeldOut, type LearningText } from './dataset.js';
import { mixReplay } from './replay.js';

/** `chunks` texts per file, `tokens` each. */
function texts(files: Record<string, { chunks: number; tokens: number }>): LearningText[] {
  return Object.entries(files).flatMap(([unit, { chunks, tokens }]) =>
    Array.from({ length: chunks }, (_, index) => ({ kind: 'code' as const, unit, text: `${unit} chunk ${index}`, tokens })),
  );
}

function manyFiles(count: number): LearningText[] {
  return texts(Object.fromEntries(Array.from({ length: count }, (_, index) => [`src/file${index}.py`, { chunks: 1 + (index % 4), tokens: 50 + ((index * 37) % 200) }])));
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
    const chats: LearningText[] = Array.from({ length: 30 }, (_, index) => ({ kind: 'accepted', unit: `chat:${index % 10}`, text: `turn ${index}`, tokens: 20 }));
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
          const mixed = mixReplay(Array.from({ length: current }, (_, index) => `C${index}`), replay, { batchSize, ratio });
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
    const code: CodeExample = { kind: 'code', project: '/p', hash: 'h', path: 'models/sale.py', language: 'python', symbol: 'SaleOrder', startLine: 1, endLine: 9, text: 'class SaleOrder:\n    pass\n' };
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
    expect(rendered.text).toBe('system: Be brief.\n\nuser: Add a field?\n\nassistant: Which model?\n\nuser: sale.order\n\nassistant: priority = fields.Integer()');
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
