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

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string is not text npllm can keep, or null when it is. A NUL cannot be stored in
 * PostgreSQL text (and ends C strings in llama.cpp); a lone UTF-16 surrogate has no UTF-8 spelling.
 */
export function invalidTextReason(text: string): string | null {
  const nul = text.indexOf('\u0000');
  if (nul !== -1) return `contains a NUL character (\\u0000) at position ${nul}`;
  const surrogate = loneSurrogate.exec(text);
  if (surrogate) return `contains a lone UTF-16 surrogate (\\u${surrogate[0].charCodeAt(0).toString(16).toUpperCase()}) at position ${surrogate.index}`;
  return null;
}

/** Deeper than any request of the contract nests; a scan of a hostile body stops here instead of overflowing the stack. */
const maxDepth = 32;

/**
 * The first string anywhere in a decoded request (values and keys) that is not valid text, with
 * its path (`history.2.content`), or null. Requests nested deeper than any method accepts are
 * reported too.
 */
export function findInvalidText(value: unknown, path: readonly (string | number)[] = []): { path: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = invalidTextReason(value);
    return reason ? { path: path.join('.') || '(body)', reason } : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (path.length >= maxDepth) return { path: path.join('.'), reason: `nests deeper than ${maxDepth} levels` };
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  for (const [key, item] of entries) {
    if (typeof key === 'string') {
      const reason = invalidTextReason(key);
      if (reason) return { path: [...path, '(key)'].join('.'), reason };
    }
    const found = findInvalidText(item, [...path, key]);
    if (found) return found;
  }
  return null;
}

/** Rejects a question no model should see; shared so every front end fails fast the same way. */
export function checkQuestion(question: string, maxChars: number): void {
  const invalid = invalidTextReason(question);
  if (invalid) {
    throw new RequestError('QUERY_INVALID', `The question is not valid text: it ${invalid}.`, {
      fix: 'Send the question as plain UTF-8 text without NUL characters (a binary file piped into --query - does this).',
    });
  }
  if (!question.trim()) {
    throw new RequestError('QUERY_EMPTY', 'The question is empty.', {
      fix: 'Type a question, for example: npllm --query "How do I reverse a list in Python?"',
    });
  }
  const length = characterCount(question);
  if (length > maxChars) {
    throw new RequestError('QUERY_TOO_LONG', `The question has ${length} characters; the limit is ${maxChars}.`, {
      fix: 'Ask about a smaller piece of code (set a project with --project so npllm retrieves what it needs), or raise query.maxChars in the config.',
      details: { length, limit: maxChars },
    });
  }
}
