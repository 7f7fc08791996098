/**
 * Is the new message the previous question asked again? Both are reduced to their content
 * words (no function words, fillers or negators) and compared with a Dice coefficient in which
 * two words count as the same when one begins the other or they share their first five letters,
 * so "dict"/"dictionary", "run"/"running" and "converto"/"converter" match without a stemmer.
 */
import { fillers, negators, stopwords } from './lexicon.js';
import type { Token } from './types.js';

const sharedPrefix = 5;
const minimumPrefixMatch = 3;

export function contentWords(tokens: readonly Token[]): string[] {
  const words = tokens
    .filter((token) => token.kind === 'word' && token.text.length >= 2)
    .map((token) => token.text)
    .filter((word) => !stopwords.en.has(word) && !stopwords.pt.has(word) && !fillers.has(word) && !negators.has(word));
  return [...new Set(words)];
}

function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  if (shorter.length >= minimumPrefixMatch && longer.startsWith(shorter)) return true;
  return shorter.length >= sharedPrefix && longer.startsWith(shorter.slice(0, sharedPrefix));
}

/** Dice coefficient over content words, 0 when either side has fewer than two (too little to call it the same question). */
export function questionSimilarity(message: readonly string[], previous: readonly string[]): number {
  if (message.length < 2 || previous.length < 2) return 0;
  const unmatched = [...previous];
  let matched = 0;
  for (const word of message) {
    const index = unmatched.findIndex((candidate) => sameWord(word, candidate));
    if (index >= 0) {
      matched += 1;
      unmatched.splice(index, 1);
    }
  }
  return (2 * matched) / (message.length + previous.length);
}
