import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from './fusion.js';
import { chunkSearchText, identifierWords, queryTerms } from './search-text.js';

describe('identifierWords', () => {
  it('splits camelCase, PascalCase, acronyms and digits but keeps the whole token too', () => {
    expect(identifierWords('reverseString')).toEqual(['reverseString', 'reverse', 'String']);
    expect(identifierWords('HTTPServer2')).toEqual(['HTTPServer2', 'HTTP', 'Server', '2']);
    expect(identifierWords('models.Model res_partner')).toEqual(['models', 'Model', 'res', 'partner']);
  });
});

describe('queryTerms', () => {
  it('keeps the words that can match code and drops stop words in English and Portuguese', () => {
    expect(queryTerms('Where is the reverseString function?')).toEqual(['reversestring', 'reverse', 'string', 'function']);
    expect(queryTerms('Onde é calculado o total do pedido?')).toEqual(['calculado', 'total', 'pedido']);
  });

  it('yields only characters that are safe inside to_tsquery', () => {
    for (const term of queryTerms("x' | !y & (z) <-> :* 'drop")) expect(term).toMatch(/^[\p{L}\p{N}]+$/u);
  });
});

describe('chunkSearchText', () => {
  it('covers the path, the symbol and the identifiers of the content', () => {
    const text = chunkSearchText({ relativePath: 'sale/models/sale_order.py', symbol: 'SaleOrder._computeTotal', content: 'def _computeTotal(self): ...' });
    expect(text.split(' ')).toEqual(expect.arrayContaining(['sale', 'order', 'SaleOrder', 'compute', 'Total']));
  });
});

describe('reciprocalRankFusion', () => {
  it('rewards documents ranked well in both lists', () => {
    const fused = reciprocalRankFusion([
      [1, 2, 3],
      [3, 1, 4],
    ]);
    expect(fused.map((entry) => entry.id)).toEqual([1, 3, 2, 4]);
    expect(fused[0]!.score).toBeCloseTo(1 / 61 + 1 / 62);
  });
});
