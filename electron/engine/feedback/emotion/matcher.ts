/**
 * Finds lexicon phrases in a token stream: at each position the longest phrase that matches
 * consecutive words wins, and its words are not matched again ("nao era isso" is one frustration
 * phrase, not a negated "era isso").
 */
import {
  complaintOpeners,
  contrasts,
  fillers,
  infoOpeners,
  intensifiers,
  lexicon,
  negators,
  ptSlang,
  resolvers,
  stopwords,
  type LexiconEntry,
} from './lexicon.js';
import type { Language, Token } from './types.js';

interface Pattern {
  text: string;
  match: 'exact' | 'prefix' | 'suffix' | 'any';
}

interface CompiledEntry {
  entry: LexiconEntry;
  patterns: Pattern[];
}

export interface Hit {
  entry: LexiconEntry;
  /** Token range [start, end). */
  start: number;
  end: number;
  /** The matched tokens, space-separated, as the cues show them. */
  text: string;
}

function compile(entry: LexiconEntry): CompiledEntry {
  const patterns = entry.phrase.split(' ').map((text): Pattern => {
    if (text === '*') return { text: '', match: 'any' };
    if (text.endsWith('*')) return { text: text.slice(0, -1), match: 'prefix' };
    if (text.length > 1 && text.startsWith('*')) return { text: text.slice(1), match: 'suffix' };
    return { text, match: 'exact' };
  });
  return { entry, patterns };
}

const byFirstWord = new Map<string, CompiledEntry[]>();
/** Entries whose first word is a prefix ("obrigad*"), by the prefix's first three letters: the lookup stays one map access per token. */
const byFirstPrefix = new Map<string, CompiledEntry[]>();
const prefixKeyLength = 3;
for (const compiled of lexicon.map(compile)) {
  const first = compiled.patterns[0]!;
  if (first.match === 'suffix' || first.match === 'any') throw new Error(`emotion lexicon: "${compiled.entry.phrase}" cannot start with a wildcard word.`);
  if (first.match === 'prefix' && first.text.length < prefixKeyLength)
    throw new Error(`emotion lexicon: the prefix in "${compiled.entry.phrase}" needs ${prefixKeyLength} letters.`);
  const [index, key] = first.match === 'exact' ? [byFirstWord, first.text] : [byFirstPrefix, first.text.slice(0, prefixKeyLength)];
  const list = index.get(key) ?? [];
  list.push(compiled);
  index.set(key, list);
}
const longestFirst = (a: CompiledEntry, b: CompiledEntry) => b.patterns.length - a.patterns.length;
for (const list of [...byFirstWord.values(), ...byFirstPrefix.values()]) list.sort(longestFirst);

function matches(pattern: Pattern, token: Token): boolean {
  if (token.kind !== 'word' && token.kind !== 'emoji') return false;
  switch (pattern.match) {
    case 'any':
      return token.kind === 'word';
    case 'exact':
      return token.text === pattern.text;
    case 'prefix':
      return token.text.startsWith(pattern.text);
    case 'suffix':
      return token.text.endsWith(pattern.text) && token.text.length > pattern.text.length;
  }
}

function matchAt(compiled: CompiledEntry, tokens: readonly Token[], start: number): boolean {
  if (start + compiled.patterns.length > tokens.length) return false;
  return compiled.patterns.every((pattern, offset) => matches(pattern, tokens[start + offset]!));
}

export function findHits(tokens: readonly Token[], language: Language): Hit[] {
  const hits: Hit[] = [];
  const usable = (compiled: CompiledEntry) => !compiled.entry.onlyInLang || compiled.entry.lang === language;
  for (let start = 0; start < tokens.length;) {
    const token = tokens[start]!;
    // Each list is sorted longest first, so its first match is its longest.
    const exact = byFirstWord.get(token.text)?.find((compiled) => usable(compiled) && matchAt(compiled, tokens, start));
    const prefixed = byFirstPrefix.get(token.text.slice(0, prefixKeyLength))?.find((compiled) => usable(compiled) && matchAt(compiled, tokens, start));
    const found = exact && prefixed ? (prefixed.patterns.length > exact.patterns.length ? prefixed : exact) : (exact ?? prefixed);
    if (!found) {
      start += 1;
      continue;
    }
    const end = start + found.patterns.length;
    hits.push({
      entry: found.entry,
      start,
      end,
      text: tokens
        .slice(start, end)
        .map((t) => t.text)
        .join(' '),
    });
    start = end;
  }
  return hits;
}

const vocabulary = new Set<string>([
  ...lexicon.flatMap((entry) => entry.phrase.split(' ').filter((word) => !word.includes('*'))),
  ...stopwords.en,
  ...stopwords.pt,
  ...negators,
  ...resolvers,
  ...intensifiers,
  ...contrasts,
  ...fillers,
  ...[...infoOpeners, ...complaintOpeners].flatMap((opener) => opener.split(' ')),
]);

/** A word the scorer has a use for: stretched spellings are mapped back onto these. */
export function isKnownWord(word: string): boolean {
  return vocabulary.has(word);
}

/** The language a one-word lexicon entry or informal spelling belongs to. */
export function languageOfWord(word: string): Language | undefined {
  if (ptSlang.has(word)) return 'pt';
  const token: Token = { kind: 'word', text: word, caps: false, stretched: false };
  const single = (compiled: CompiledEntry) => compiled.patterns.length === 1 && compiled.entry.lang !== undefined && matches(compiled.patterns[0]!, token);
  return (byFirstWord.get(word)?.find(single) ?? byFirstPrefix.get(word.slice(0, prefixKeyLength))?.find(single))?.entry.lang;
}
