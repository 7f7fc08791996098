import { describe, expect, it } from 'vitest';
import { responseCacheKey, type CacheKeyParts } from './cache-key.js';

const base: CacheKeyParts = {
  question: 'How do I reverse a string in Python?',
  history: [],
  project: null,
  modelFingerprint: 'aaaa',
  adapters: [{ name: 'odoo', version: '3', scale: 1 }],
  systemPrompt: 'be brief',
  maxTokens: 256,
  temperature: 0.2,
  retrieved: ['abc'],
};

describe('responseCacheKey', () => {
  it('is the same for the same question written differently', () => {
    expect(responseCacheKey({ ...base, question: 'how do i reverse a string in python' })).toBe(responseCacheKey(base));
  });

  it('changes with anything that can change the answer', () => {
    const key = responseCacheKey(base);
    const variants: Partial<CacheKeyParts>[] = [
      { modelFingerprint: 'bbbb' },
      { adapters: [{ name: 'odoo', version: '4', scale: 1 }] },
      { adapters: [{ name: 'odoo', version: '3', scale: 0.5 }] },
      { adapters: [] },
      { history: [{ role: 'user', content: 'we use Python 2' }] },
      { project: '/home/me/shop' },
      { systemPrompt: 'be verbose' },
      { maxTokens: 512 },
      { temperature: 0.7 },
      { retrieved: ['abd'] },
      { retrieved: [] },
    ];
    for (const variant of variants) expect(responseCacheKey({ ...base, ...variant }), JSON.stringify(variant)).not.toBe(key);
  });

  it('does not depend on the order adapters are listed in', () => {
    const two = [
      { name: 'a', version: '1', scale: 1 },
      { name: 'b', version: '2', scale: 1 },
    ];
    expect(responseCacheKey({ ...base, adapters: two })).toBe(responseCacheKey({ ...base, adapters: [...two].reverse() }));
  });
});
