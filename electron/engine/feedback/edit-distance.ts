import { distance } from 'fastest-levenshtein';

/**
 * Levenshtein distance, exact up to `exactChars` per side. Beyond that only the heads are compared
 * and the length difference added: quadratic work on two 200 KB texts would stall the engine for
 * seconds, and for a reward the share of change in the first 20,000 characters is enough.
 */
export function boundedEditDistance(a: string, b: string, exactChars = 20_000): number {
  if (a.length <= exactChars && b.length <= exactChars) return distance(a, b);
  const head = distance(a.slice(0, exactChars), b.slice(0, exactChars));
  return head + Math.abs(Math.max(a.length, exactChars) - Math.max(b.length, exactChars));
}
