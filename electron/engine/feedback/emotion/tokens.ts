/**
 * Tokens as the lexicon sees them. wink-tokenizer does the splitting (words with accents,
 * emojis and their sequences, emoticons, URLs, numbers, English contractions as "does" + "n't");
 * this file folds accents, expands informal spellings and contractions, recognises laughter and
 * undoes stretched letters ("perfeitooo", "nooo"), remembering both as emphasis.
 */
import winkTokenizer, { type WinkTag } from 'wink-tokenizer';
import { acronyms, enContractions, ptOnlySlang, ptSlang } from './lexicon.js';
import { isKnownWord } from './matcher.js';
import { fold } from './text.js';
import type { Language, RawToken, Token } from './types.js';

const tokenizer = winkTokenizer();
// A "quoted phrase" as one token would hide its words from the lexicon; e-mail addresses say
// nothing about a mood and their pattern is the tokenizer's slowest.
tokenizer.defineConfig({ quoted_phrase: false, email: false });

const laughter = /^(?:k{3,}|a?(?:ha){2,}h?|(?:he){2,}|(?:hue){2,}|(?:rs){2,}|lol|lmao|rofl)$/;
const stretchedLetters = /(\p{L})\1{2,}/u;

/** Lines become one stream with a `break` between them: a line break ends a sentence. */
export function tokenizeLines(lines: readonly string[]): RawToken[] {
  const tokens: RawToken[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    if (tokens.length > 0) tokens.push({ kind: 'break', text: '', caps: false });
    // The tokenizer knows only the ASCII apostrophe in contractions.
    for (const { value, tag } of tokenizer.tokenize(line.replace(/[’‘]/g, "'"))) tokens.push(rawToken(value, tag));
  }
  return tokens;
}

function rawToken(value: string, tag: WinkTag): RawToken {
  switch (tag) {
    case 'word': {
      const text = fold(value);
      const caps = /\p{L}.*\p{L}/u.test(value) && value === value.toUpperCase() && value !== value.toLowerCase() && !acronyms.has(text);
      return { kind: 'word', text, caps };
    }
    case 'emoji':
      // Skin tones, gender and variation selectors do not change the feeling: 🤦‍♂️ is 🤦, ❤️ is ❤.
      return { kind: 'emoji', text: String.fromCodePoint(value.codePointAt(0)!), caps: false };
    case 'emoticon':
      return { kind: 'emoji', text: value.toLowerCase(), caps: false };
    case 'number':
      // One word for every number, so the lexicon can say "<num> times".
      return { kind: 'word', text: '<num>', caps: false };
    case 'punctuation':
      return { kind: 'punctuation', text: value, caps: false };
    default:
      return { kind: 'other', text: tag, caps: false };
  }
}

export function normalizeTokens(raw: readonly RawToken[], language: Language): Token[] {
  const tokens: Token[] = [];
  for (const token of raw) {
    if (token.kind !== 'word') {
      tokens.push({ ...token, stretched: false });
      continue;
    }
    if (laughter.test(token.text)) {
      tokens.push({ ...token, text: '<laugh>', stretched: false });
      continue;
    }
    const stretched = stretchedLetters.test(token.text);
    const word = stretched ? unstretch(token.text) : token.text;
    const expansion = enContractions.get(word) ?? ptSlang.get(word) ?? (language === 'pt' ? ptOnlySlang.get(word) : undefined) ?? [word];
    for (const text of expansion) tokens.push({ kind: 'word', text, caps: token.caps, stretched });
  }
  return tokens;
}

/** "goood" → "good" (a known word with a double letter), else every run to one letter: "perfeitooo" → "perfeito". */
function unstretch(word: string): string {
  const doubled = word.replace(/(\p{L})\1{2,}/gu, '$1$1');
  return isKnownWord(doubled) ? doubled : word.replace(/(\p{L})\1{2,}/gu, '$1');
}
