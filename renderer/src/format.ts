/** Presentation helpers for answers, kept free of React so they are tested directly. */
import type { TFunction } from 'i18next';
import type { AskResponse } from '../../shared/contract.js';
import { formatMilliseconds } from './locale-format.js';

export type Segment = { kind: 'text'; text: string } | { kind: 'code'; text: string; language: string };

/**
 * Splits an answer on Markdown code fences. An unclosed fence (an answer still streaming, or cut
 * at maxTokens) is code up to the end, so code looks like code while it arrives.
 */
export function splitCodeFences(answer: string): Segment[] {
  const segments: Segment[] = [];
  let kind: Segment['kind'] = 'text';
  let language = '';
  let lines: string[] = [];
  const flush = () => {
    const text = lines.join('\n').replace(/^\n+|\s+$/g, '');
    if (kind === 'code') segments.push({ kind, language, text });
    else if (text) segments.push({ kind, text });
    lines = [];
  };
  for (const line of answer.split('\n')) {
    const fence = /^\s*```\s*([\w+#.-]*)/.exec(line);
    if (!fence) {
      lines.push(line);
      continue;
    }
    flush();
    language = kind === 'text' ? (fence[1] ?? '') : '';
    kind = kind === 'text' ? 'code' : 'text';
  }
  flush();
  return segments;
}

/**
 * The meta line under an answer: what produced it and how fast, in the reader's language (`t`
 * and `language` from i18next, passed in so this stays free of React).
 */
export function describeResult(result: AskResponse, t: TFunction, language: string): string[] {
  const { timings } = result;
  const time = (ms: number) => formatMilliseconds(ms, language);
  return [
    result.model,
    t('meta.tokens', { count: timings.tokens }),
    t('meta.ttft', { time: time(timings.ttftMs) }),
    t('meta.total', { time: time(timings.totalMs) }),
    ...(timings.loadMs > 0 ? [t('meta.load', { time: time(timings.loadMs) })] : []),
    ...(result.finishReason === 'length' ? [t('meta.cut')] : []),
    ...(result.finishReason === 'repetition' ? [t('meta.repeating')] : []),
  ];
}

export interface InlineSpan {
  code: boolean;
  text: string;
}

/** Splits prose on `inline code` spans; an unmatched backtick (still streaming) stays text. */
export function splitInlineCode(text: string): InlineSpan[] {
  const spans: InlineSpan[] = [];
  let rest = text;
  for (let match = /`([^`\n]+)`/.exec(rest); match; match = /`([^`\n]+)`/.exec(rest)) {
    if (match.index > 0) spans.push({ code: false, text: rest.slice(0, match.index) });
    spans.push({ code: true, text: match[1]! });
    rest = rest.slice(match.index + match[0].length);
  }
  if (rest) spans.push({ code: false, text: rest });
  return spans;
}
