import { describe, expect, it } from 'vitest';
import { buildContextMessage, describeSources } from './prompt.js';
import { mentions, RuleBasedGate, type GateLookups } from './gate.js';
import type { ChunkHit } from './queries.js';

function lookups(symbols: string[], paths: string[], distance: number | null): GateLookups & { embedded: number } {
  const state = {
    embedded: 0,
    findSymbols: (names: readonly string[]) =>
      Promise.resolve(symbols.filter((symbol) => names.some((name) => symbol === name || symbol.endsWith(`.${name}`)))),
    findPaths: (candidates: readonly string[]) =>
      Promise.resolve(paths.filter((path) => candidates.some((candidate) => path === candidate || path.endsWith(`/${candidate}`)))),
    nearestDistance: () => {
      state.embedded++;
      return Promise.resolve(distance);
    },
  };
  return state;
}

const gate = new RuleBasedGate();

describe('mentions', () => {
  it('finds code-like names and paths, not ordinary words', () => {
    expect(mentions('Why does `compute_total` fail in sale/order.py when SaleOrder.action_confirm() runs?')).toEqual({
      identifiers: expect.arrayContaining(['compute_total', 'SaleOrder.action_confirm', 'action_confirm']),
      paths: expect.arrayContaining(['sale/order.py']),
    });
    expect(mentions('What is a Python list comprehension?')).toEqual({ identifiers: [], paths: [] });
  });
});

describe('RuleBasedGate', () => {
  it('retrieves when the question names a project symbol the conversation lacks, without embedding', async () => {
    const tools = lookups(['SaleOrder._compute_total'], [], 0.9);
    const decision = await gate.decide({ question: 'Why is `_compute_total` wrong?', history: [] }, tools);
    expect(decision.retrieve).toBe(true);
    expect(decision.reasons[0]).toContain('SaleOrder._compute_total');
    expect(tools.embedded).toBe(0);
  });

  it('does not retrieve what the conversation already holds', async () => {
    const decision = await gate.decide(
      { question: 'And `_compute_total`?', history: [{ role: 'assistant', content: 'def _compute_total(self): ...' }] },
      lookups(['SaleOrder._compute_total'], [], 0.1),
    );
    expect(decision).toEqual({ retrieve: false, reasons: ['"SaleOrder._compute_total" already in the conversation'] });
  });

  it('retrieves for a file of the project', async () => {
    expect((await gate.decide({ question: 'What does models/sale.py do?', history: [] }, lookups([], ['addons/models/sale.py'], 0.9))).retrieve).toBe(true);
  });

  it('retrieves "where is X handled?" when project code is close', async () => {
    const decision = await gate.decide({ question: 'Where is the payment refund handled?', history: [] }, lookups([], [], 0.55));
    expect(decision.retrieve).toBe(true);
    expect(decision.reasons[0]).toMatch(/asks about the project's code.*0\.55/);
  });

  it('does not retrieve for a general question', async () => {
    const decision = await gate.decide({ question: 'What is a Python list comprehension?', history: [] }, lookups([], [], 0.55));
    expect(decision.retrieve).toBe(false);
    expect(decision.reasons).toContain('names no symbol or file of the project');
  });

  it('retrieves whatever the wording when code is very close, and never from an empty index', async () => {
    expect((await gate.decide({ question: 'Explain the refund flow', history: [] }, lookups([], [], 0.3))).retrieve).toBe(true);
    expect(await gate.decide({ question: 'Where is it?', history: [] }, lookups([], [], null))).toEqual({
      retrieve: false,
      reasons: ['the project index is empty'],
    });
  });
});

describe('buildContextMessage', () => {
  const hit = (path: string, lines: number): ChunkHit => ({
    id: lines,
    contentHash: 'h',
    relativePath: path,
    language: 'python',
    symbol: 'f',
    kind: 'function',
    startLine: 1,
    endLine: lines,
    content: 'x = 1\n'.repeat(lines),
  });

  // A stand-in for a vocabulary: one token per whitespace-separated word.
  const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

  it('puts chunks under their path and lines, best first, within the budget in tokens', () => {
    const { message, sources } = buildContextMessage([hit('a.py', 10), hit('b.py', 2000), hit('c.py', 5)], 200, words);
    expect(sources.map((source) => source.path)).toEqual(['a.py', 'c.py']);
    expect(words(message!.content)).toBeLessThanOrEqual(200);
    expect(message?.role).toBe('system');
    expect(message?.content).toContain('### a.py:1-10 (f)\n```python');
    expect(describeSources(sources)).toBe('- a.py:1-10 (f)\n- c.py:1-5 (f)');
  });

  it('gives nothing when nothing fits', () => {
    expect(buildContextMessage([hit('b.py', 2000)], 10, words)).toEqual({ message: null, sources: [] });
  });
});
