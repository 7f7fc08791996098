import { describe, expect, it } from 'vitest';
import type { AskResponse } from '../../shared/contract.js';
import { describeResult, splitCodeFences, splitInlineCode } from './format.js';
import { createI18n } from './i18n.js';
import { formatMilliseconds } from './locale-format.js';

const en = createI18n('en');
const ptBR = createI18n('pt-BR');

describe('splitCodeFences', () => {
  it('separates prose from fenced code and keeps the language', () => {
    const answer = 'Here it is:\n```python\ndef f(s):\n    return s[::-1]\n```\nCall it with a string.';
    expect(splitCodeFences(answer)).toEqual([
      { kind: 'text', text: 'Here it is:' },
      { kind: 'code', language: 'python', text: 'def f(s):\n    return s[::-1]' },
      { kind: 'text', text: 'Call it with a string.' },
    ]);
  });

  it('treats an unclosed fence as code to the end (streaming, or cut at max tokens)', () => {
    expect(splitCodeFences('```js\nconst x =')).toEqual([{ kind: 'code', language: 'js', text: 'const x =' }]);
  });

  it('returns plain text as one segment and nothing for an empty answer', () => {
    expect(splitCodeFences('just words')).toEqual([{ kind: 'text', text: 'just words' }]);
    expect(splitCodeFences('')).toEqual([]);
  });
});

describe('describeResult', () => {
  const result: AskResponse = {
    interactionId: 'i1',
    answer: 'x',
    cached: false,
    cachedFrom: null,
    model: 'SmolLM2',
    adapters: [],
    timings: { ttftMs: 240.4, totalMs: 2500, tokens: 48, promptTokens: 30, loadMs: 1400 },
    finishReason: 'length',
    retrieval: { used: false, reasons: ['no project is set'], sources: [] },
    modulator: { version: 0, retrieve: false, scales: {}, reasons: [], source: 'network', explored: false, propensity: 1 },
    conversationId: null,
    createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('lists model, tokens, ttft, total, load time and a cut answer', () => {
    expect(describeResult(result, en.t, 'en')).toEqual(['SmolLM2', '48 tokens', 'ttft 240 ms', 'total 2.5 s', 'model load 1.4 s', 'cut at max tokens']);
  });

  it('says it in Portuguese, with a decimal comma', () => {
    expect(describeResult({ ...result, finishReason: 'repetition', timings: { ...result.timings, tokens: 1 } }, ptBR.t, 'pt-BR')).toEqual([
      'SmolLM2',
      '1 token',
      'primeiro token em 240 ms',
      'total 2,5 s',
      'carregamento do modelo 1,4 s',
      'interrompida: o modelo estava se repetindo',
    ]);
  });

  it('leaves out what did not happen', () => {
    expect(describeResult({ ...result, finishReason: 'stop', timings: { ...result.timings, loadMs: 0 } }, en.t, 'en')).toHaveLength(4);
  });

  it('formats milliseconds for people, in their language', () => {
    expect([3.2, 999, 999.7, 12_345].map((ms) => formatMilliseconds(ms, 'en'))).toEqual(['3 ms', '999 ms', '1 s', '12.3 s']);
    expect(formatMilliseconds(1500, 'pt-BR')).toBe('1,5 s');
  });
});

describe('splitInlineCode', () => {
  it('separates inline code from prose', () => {
    expect(splitInlineCode('Use `s[::-1]` to reverse `s`.')).toEqual([
      { code: false, text: 'Use ' },
      { code: true, text: 's[::-1]' },
      { code: false, text: ' to reverse ' },
      { code: true, text: 's' },
      { code: false, text: '.' },
    ]);
  });

  it('leaves an unmatched backtick of a streaming answer as text', () => {
    expect(splitInlineCode('Call `revers')).toEqual([{ code: false, text: 'Call `revers' }]);
  });
});
