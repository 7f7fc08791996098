import { describe, expect, it } from 'vitest';
import { RepetitionGuard } from './repetition.js';

function feed(guard: RepetitionGuard, tokens: number[]): number {
  for (let index = 0; index < tokens.length; index++) if (guard.push([tokens[index]!])) return index + 1;
  return -1;
}

const cycle = (pattern: number[], times: number) => Array.from({ length: times }, () => pattern).flat();

describe('RepetitionGuard', () => {
  it('stops a two-token loop ("No, no, no, …") after the minimum span', () => {
    const stoppedAt = feed(new RepetitionGuard(), [5, 6, 7, ...cycle([11, 12], 100)]);
    expect(stoppedAt).toBe(3 + 64 + 2);
  });

  it('stops a repeated sentence of up to maxPeriod tokens after three repetitions', () => {
    const sentence = Array.from({ length: 30 }, (_, index) => 100 + index);
    const stoppedAt = feed(new RepetitionGuard(), cycle(sentence, 10));
    expect(stoppedAt).toBe(30 + 90);
  });

  it('lets varied output through, including code that repeats a line a few times', () => {
    const line = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const varied = Array.from({ length: 400 }, (_, index) => (index * 7919) % 1000);
    expect(feed(new RepetitionGuard(), [...cycle(line, 5), ...varied])).toBe(-1);
  });

  it('ignores cycles longer than maxPeriod', () => {
    const long = Array.from({ length: 40 }, (_, index) => index);
    expect(feed(new RepetitionGuard({ maxPeriod: 32 }), cycle(long, 6))).toBe(-1);
  });

  it('accepts tokens in chunks', () => {
    const guard = new RepetitionGuard({ minSpan: 8, maxPeriod: 2 });
    expect(guard.push([1, 2, 1, 2, 1, 2])).toBe(false);
    expect(guard.push([1, 2, 1, 2, 1, 2])).toBe(true);
  });
});
