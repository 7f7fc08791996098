import { describe, expect, it } from 'vitest';
import { interactionIdPattern, newInteractionId } from './ids.js';

describe('newInteractionId', () => {
  it('is a UUIDv7 that sorts by creation time', () => {
    const earlier = newInteractionId(1_700_000_000_000);
    const later = newInteractionId(1_700_000_000_001);
    expect(earlier).toMatch(interactionIdPattern);
    expect(earlier < later).toBe(true);
  });

  it('is unique within one millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newInteractionId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });
});
