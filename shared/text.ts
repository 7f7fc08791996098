/**
 * Normalisation used to decide that two questions are "the same" for the response cache.
 * Prose is case- and whitespace-insensitive; code (inside backticks) keeps its case because
 * `List` and `list` are different things in code.
 */
export function normalizeQuestion(question: string): string {
  const segments = question.normalize('NFKC').split(/(```[\s\S]*?```|`[^`\n]*`)/);
  const normalized = segments
    .map((segment, index) => {
      const isCode = index % 2 === 1;
      if (isCode) return segment.replace(/[ \t]+$/gm, '');
      return segment.toLocaleLowerCase('en-US').replace(/\s+/g, ' ');
    })
    .join('')
    .trim();
  return normalized.replace(/[\s?!.;:]+$/u, '');
}

/** Character count as a person sees it (code points), for limits reported back to them. */
export function characterCount(text: string): number {
  return Array.from(text).length;
}
