import { RequestError } from './errors.js';

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

/** Rejects a question no model should see; shared so every front end fails fast the same way. */
export function checkQuestion(question: string, maxChars: number): void {
  if (!question.trim()) {
    throw new RequestError('QUERY_EMPTY', 'The question is empty.', { fix: 'Type a question, for example: npllm --query "How do I reverse a list in Python?"' });
  }
  const length = characterCount(question);
  if (length > maxChars) {
    throw new RequestError('QUERY_TOO_LONG', `The question has ${length} characters; the limit is ${maxChars}.`, {
      fix: 'Ask about a smaller piece of code (set a project with --project so npllm retrieves what it needs), or raise query.maxChars in the config.',
      details: { length, limit: maxChars },
    });
  }
}
