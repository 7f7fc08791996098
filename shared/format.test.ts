import { describe, expect, it } from 'vitest';
import { formatDuration } from './format.js';

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(108_600)).toBe('1 min 49 s');
    expect(formatDuration(3_600_000)).toBe('1 h 00 min');
  });

  it('says – for what is unknown', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(Number.NaN)).toBe('–');
    expect(formatDuration(-1)).toBe('–');
  });
});
