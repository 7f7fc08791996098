import { describe, expect, it } from 'vitest';
import { batchesByLength, meanPoolNormalize } from './pooling.js';

describe('batchesByLength', () => {
  it('groups indices shortest first, ties in input order, every index once', () => {
    expect(batchesByLength([5, 2, 9, 2, 7], 2)).toEqual([[1, 3], [0, 4], [2]]);
    expect(batchesByLength([], 8)).toEqual([]);
  });
});

describe('meanPoolNormalize', () => {
  it('averages only the real tokens of each right-padded row, then scales to unit length', () => {
    // Two rows, padded length 3, 2 dimensions. Row 0 has 2 real tokens, row 1 has 1; the
    // padding positions hold values that must not leak into the result.
    const hidden = Float32Array.from([3, 0, 1, 4, 99, 99, 0, -2, 99, 99, 99, 99]);
    const [first, second] = meanPoolNormalize(hidden, [2, 1], 3, 2);
    expect(Array.from(first!)).toEqual([Math.fround(4 / Math.hypot(4, 4)), Math.fround(4 / Math.hypot(4, 4))]);
    expect(Array.from(second!)).toEqual([0, -1]);
  });

  it('leaves an all-zero vector zero instead of dividing by zero', () => {
    expect(Array.from(meanPoolNormalize(new Float32Array(4), [2], 2, 2)[0]!)).toEqual([0, 0]);
  });
});
