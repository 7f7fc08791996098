/**
 * Full-text search over code needs identifiers in pieces: PostgreSQL's parser splits
 * `reverse_string` but keeps `reverseString`, `models.Model` and `src/app.ts` whole. Chunks and
 * questions both go through `identifierWords`, so `reverseString`, `reverse_string` and
 * "reverse string" all meet.
 */
const stopWords = new Set(
  (
    'a an and are as at be by can do does for from how i in is it me my of on or that the this to what when where which who why with you your ' +
    'o a os as um uma de do da dos das em no na nos nas que e é para por com como onde qual quais quando se seu sua meu minha este esta isso'
  ).split(' '),
);

/** Each alphanumeric run, then its camelCase/PascalCase/digit parts when it has several. */
export function identifierWords(text: string): string[] {
  const words: string[] = [];
  for (const token of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    words.push(token);
    const parts = token.split(/(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u);
    if (parts.length > 1) words.push(...parts);
  }
  return words;
}

export function chunkSearchText(chunk: { relativePath: string; symbol: string | null; content: string }): string {
  return identifierWords(`${chunk.relativePath} ${chunk.symbol ?? ''} ${chunk.content}`).join(' ');
}

/** Distinct lowercase search terms of a question, without stop words, safe inside to_tsquery. */
export function queryTerms(question: string, limit = 32): string[] {
  const terms = new Set<string>();
  for (const word of identifierWords(question)) {
    const term = word.toLowerCase();
    if (term.length < 2 || stopWords.has(term)) continue;
    terms.add(term);
    if (terms.size === limit) break;
  }
  return [...terms];
}
