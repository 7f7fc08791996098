import { describe, expect, it } from 'vitest';
import { mixReplay } from './replay.js';

describe('mixReplay', () => {
  it('puts round(batch × ratio) replayed texts in every batch, in order', () => {
    const mixed = mixReplay(['a', 'b', 'c', 'd', 'e', 'f'], ['R1', 'R2', 'R3'], { batchSize: 4, ratio: 0.25 });
    expect(mixed).toEqual(['a', 'b', 'c', 'R1', 'd', 'e', 'f', 'R2']);
  });

  it('cycles a short replay list and keeps one current text per batch at ratio 1', () => {
    expect(mixReplay(['a', 'b', 'c'], ['R'], { batchSize: 2, ratio: 0.5 })).toEqual(['a', 'R', 'b', 'R', 'c', 'R']);
    expect(mixReplay(['a', 'b'], ['R1', 'R2'], { batchSize: 3, ratio: 1 })).toEqual(['a', 'R1', 'R2', 'b', 'R1', 'R2']);
  });

  it('returns the current texts alone without replay or at ratio 0', () => {
    expect(mixReplay(['a', 'b'], [], { batchSize: 4, ratio: 0.5 })).toEqual(['a', 'b']);
    expect(mixReplay(['a', 'b'], ['R'], { batchSize: 4, ratio: 0 })).toEqual(['a', 'b']);
  });
});
