/**
 * From a raw chat message to the prose the lexicon reads: a bounded amount of text, with code
 * (fenced blocks, pasted stack traces and logs, `inline code`) kept out of the words but
 * remembered as "this message contains error output".
 */

/** A pasted 100 KB log must cost no more than a paragraph: its opening and its end carry the mood. */
export const headChars = 2000;
export const tailChars = 500;

export interface PreparedText {
  /** The prose, line by line, inline code replaced by the word "code". */
  proseLines: string[];
  hasCode: boolean;
  /** A traceback, a compiler or test failure, a log error line. */
  errorOutput: boolean;
}

const fenceLine = /^[ \t]*(?:```|~~~)/;
const fenceLines = /^[ \t]*(?:```|~~~)/gm;

/**
 * Lines that are code or program output even without a fence. Each pattern is specific enough not
 * to match a sentence a person types ("for the empty list case?" is prose).
 */
const codeLinePatterns: readonly RegExp[] = [
  /^\s*(?:Traceback \(most recent call last\)|File ".+", line \d+)/,
  /^\s+at\s+\S.*(?::\d+(?::\d+)?\)?|\((?:native|<anonymous>)\))\s*$/,
  /^\s*(?:Uncaught\s+)?(?:[\w$]+\.)*(?:[A-Z]\w*)?(?:Error|Exception)(?:\s*\[\w+\])?:/,
  /^\s*(?:(?:error(?:\[\w+\])?|fatal|panic)\s*:\s|(?:FAIL|FAILED|ERROR|FATAL)\b|npm ERR!)/,
  /^\s*\^+\s*$/,
  /^\s*(?:\$|>>>|>)\s/,
  /[;{}]\s*$/,
  /^\s*(?:async\s+)?def\s+\w+\s*\(/,
  /^\s*class\s+\w+[\s:({]/,
  /^\s*(?:import\s+[\w{*]|from\s+[\w.]+\s+import\b)/,
  /^\s*(?:export\s+)?(?:const|let|var)\s+\w+\s*=/,
  /^\s*(?:export\s+)?(?:async\s+)?function\s*\w*\s*\(/,
  /^\s*#include\b/,
  /^\s*SELECT\b.+\bFROM\b/,
];
/** Brackets, operators and separators that prose seldom piles up. */
const codeSymbols = /[{}[\];=<>$\\|]/g;

/** What a failed run prints; tested on the code part only, so a question that names an error is not output. */
const errorOutputPattern = new RegExp(
  [
    String.raw`Traceback \(most recent call last\)`,
    String.raw`^\s*File ".+", line \d+`,
    String.raw`^\s+at\s+\S.*:\d+`,
    String.raw`^\s*(?:Uncaught\s+)?(?:[\w$]+\.)*(?:[A-Z]\w*)?(?:Error|Exception)(?:\s*\[\w+\])?:`,
    String.raw`^Exception in thread`,
    String.raw`^\s*(?:(?:error(?:\[\w+\])?|fatal|panic)\s*:|(?:FAIL|FAILED|ERROR|FATAL)\b)`,
    String.raw`\berror TS\d+:`,
    String.raw`:\d+:\d+: (?:fatal )?error:`,
    String.raw`npm ERR!`,
    String.raw`Segmentation fault`,
    String.raw`\bexit(?:ed)? (?:code|status|with code) [1-9]`,
    String.raw`command not found`,
    String.raw`No such file or directory`,
    String.raw`Cannot find module`,
    String.raw`^\s*Expected:.*\n\s*Received:`,
    '[✕✗]',
  ].join('|'),
  'm',
);

export function prepareText(message: string): PreparedText {
  const proseLines: string[] = [];
  const codeLines: string[] = [];
  const collect = (segment: string, startsInFence: boolean) => {
    let inFence = startsInFence;
    for (const line of segment.split('\n')) {
      if (fenceLine.test(line)) {
        inFence = !inFence;
        codeLines.push('');
      } else if (inFence || isCodeLine(line)) {
        codeLines.push(line);
      } else {
        proseLines.push(line.replace(/`[^`\n]*`/g, ' code ').replace(/\S+/g, (chunk) => (isCodeChunk(chunk) ? 'code' : chunk)));
      }
    }
  };
  if (message.length <= headChars + tailChars) {
    collect(message, false);
  } else {
    collect(message.slice(0, headChars), false);
    const tailStart = message.length - tailChars;
    // The tail may start inside a fence opened in the skipped middle: count the fences before it.
    const fencesBefore = message.slice(0, tailStart).match(fenceLines)?.length ?? 0;
    collect(message.slice(tailStart), fencesBefore % 2 === 1);
  }
  return { proseLines, hasCode: codeLines.length > 0, errorOutput: codeLines.length > 0 && errorOutputPattern.test(codeLines.join('\n')) };
}

function isCodeLine(line: string): boolean {
  if (codeLinePatterns.some((pattern) => pattern.test(line))) return true;
  const symbols = line.match(codeSymbols)?.length ?? 0;
  return symbols >= 3 && symbols / line.replace(/\s/g, '').length >= 0.1;
}

/** An unquoted expression in a sentence ("^(?!.*bad).*$", "foo(x)", "a[i]=b"): letters or digits with brackets and operators. */
function isCodeChunk(chunk: string): boolean {
  return /[\p{L}\d]/u.test(chunk) && (chunk.match(/[(){}[\]<>=;$^*\\|]/g)?.length ?? 0) >= 2;
}

/** Lower case without accents: "NÃO" and "nao" are the same word to the lexicon. */
export function fold(text: string): string {
  // Most words are plain ASCII: skip the Unicode decomposition for them.
  return /^[\x20-\x7e]*$/.test(text) ? text.toLowerCase() : text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
