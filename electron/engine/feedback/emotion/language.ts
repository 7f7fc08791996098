/**
 * English or Portuguese, by counting what only one of them uses: function words, lexicon words
 * and informal spellings ("vc", "obg"), k-laughter, and Portuguese letters (ã, õ, ç count double:
 * English never has them). A message with no clue ("ok", "???") takes the language of the
 * question before it, else English.
 */
import { stopwords } from './lexicon.js';
import { languageOfWord } from './matcher.js';
import type { Language, RawToken } from './types.js';

const portugueseOnlyLetters = /[ãõç]/;
const accentedLetters = /[áéíóúâêôà]/;

export function guessLanguage(tokens: readonly RawToken[], prose: string, fallback: () => Language | undefined): Language {
  let pt = 0;
  let en = 0;
  for (const token of tokens) {
    if (token.kind !== 'word') continue;
    const inPt = stopwords.pt.has(token.text);
    const inEn = stopwords.en.has(token.text);
    if (inPt !== inEn) {
      if (inPt) pt += 1;
      else en += 1;
      continue;
    }
    if (/^k{3,}$/.test(token.text)) pt += 1;
    const lexical = languageOfWord(token.text);
    if (lexical === 'pt') pt += 1;
    else if (lexical === 'en') en += 1;
  }
  const lower = prose.toLowerCase();
  if (portugueseOnlyLetters.test(lower)) pt += 2;
  else if (accentedLetters.test(lower)) pt += 1;
  if (pt !== en) return pt > en ? 'pt' : 'en';
  return fallback() ?? 'en';
}
