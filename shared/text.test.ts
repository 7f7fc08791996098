import { describe, expect, it } from 'vitest';
import { characterCount, checkQuestion, normalizeQuestion } from './text.js';

describe('normalizeQuestion', () => {
  it('ignores case, spacing and trailing punctuation in prose', () => {
    expect(normalizeQuestion('  How do I   reverse a String in Python?? ')).toBe(normalizeQuestion('how do i reverse a string in python'));
  });

  it('keeps the case of code, where it matters', () => {
    expect(normalizeQuestion('what does `List` mean')).not.toBe(normalizeQuestion('what does `list` mean'));
    expect(normalizeQuestion('fix ```py\nX = 1\n```')).toContain('X = 1');
  });

  it('keeps different questions apart', () => {
    expect(normalizeQuestion('reverse a string')).not.toBe(normalizeQuestion('reverse a list'));
  });

  it('treats composed and decomposed accents alike (pt-BR questions)', () => {
    expect(normalizeQuestion('Como criar um módulo?')).toBe(normalizeQuestion('como criar um mo\u0301dulo'));
  });
});

describe('characterCount', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(characterCount('a😀b')).toBe(3);
  });
});

describe('checkQuestion', () => {
  it('rejects blank and oversized questions with the limit named', () => {
    expect(() => checkQuestion(' \n', 10)).toThrow(/empty/);
    expect(() => checkQuestion('x'.repeat(11), 10)).toThrow(/11 characters; the limit is 10/);
    expect(() => checkQuestion('fine', 10)).not.toThrow();
  });
});
