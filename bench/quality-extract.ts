/**
 * Reading answers the way a user does: the code is in the fenced blocks, the rest is prose. Pure
 * functions, so the unit test pins them down without a model.
 */

export interface CodeBlock {
  /** The info string's first word, lower-cased (`python`, `ts`, …); empty when the fence has none. */
  language: string;
  code: string;
  /** False when the answer ended (often at maxTokens) inside the block. */
  closed: boolean;
}

/**
 * Fenced blocks (``` or ~~~), in order. Models put fences inside list items, indented like the
 * item's text, so any indentation opens a fence, and as much of it as the opening fence had is
 * taken off each line of the block (CommonMark does the same within a list item).
 */
export function codeBlocks(answer: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: { fence: string; indent: number; language: string; lines: string[] } | undefined;
  for (const line of answer.split(/\r?\n/)) {
    if (!open) {
      const start = /^( *)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
      if (start) open = { fence: start[2]!, indent: start[1]!.length, language: start[3]!.toLowerCase(), lines: [] };
      continue;
    }
    const end = /^ *(`{3,}|~{3,})\s*$/.exec(line);
    if (end && end[1]![0] === open.fence[0] && end[1]!.length >= open.fence.length) {
      blocks.push({ language: open.language, code: open.lines.join('\n'), closed: true });
      open = undefined;
    } else open.lines.push(dedent(line, open.indent));
  }
  if (open) blocks.push({ language: open.language, code: open.lines.join('\n').trimEnd(), closed: false });
  return blocks;
}

function dedent(line: string, indent: number): string {
  const leading = /^ */.exec(line)![0].length;
  return line.slice(Math.min(leading, indent));
}

const languageAliases = {
  python: ['python', 'py', 'python3', 'py3'],
  sql: ['sql', 'sqlite', 'postgresql', 'postgres', 'psql', 'mysql', 'plpgsql'],
  typescript: ['typescript', 'ts', 'tsx'],
  javascript: ['javascript', 'js', 'jsx', 'node', 'mjs', 'cjs'],
} as const satisfies Record<string, readonly string[]>;

/** Blocks in `language` (by their fence's tag), or untagged ones when none is tagged so. */
export function blocksIn(answer: string, language: keyof typeof languageAliases | 'script'): CodeBlock[] {
  const blocks = codeBlocks(answer);
  const tags: readonly string[] = language === 'script' ? [...languageAliases.typescript, ...languageAliases.javascript] : languageAliases[language];
  const tagged = blocks.filter((block) => tags.includes(block.language));
  return tagged.length ? tagged : blocks.filter((block) => block.language === '');
}

/**
 * What to run for a HumanEval problem: a whole function (the usual answer), a body, or nothing.
 * `truncated`: the answer ended inside that code (maxTokens or the repetition stop).
 */
export type Completion = { kind: 'function' | 'body'; code: string; truncated: boolean } | { kind: 'none'; code: ''; truncated: false };

/**
 * The block that defines `entryPoint` wins; else the first Python block is taken as the body (indented
 * if the model wrote it flush left). An answer without fences counts only if it plainly holds the
 * function: from its first import or `def` down to the first line of prose.
 */
export function extractCompletion(answer: string, entryPoint: string): Completion {
  const defines = new RegExp(`^\\s*(async\\s+)?def\\s+${escapeRegExp(entryPoint)}\\s*\\(`, 'm');
  const blocks = blocksIn(answer, 'python');
  const whole = blocks.find((block) => defines.test(block.code));
  if (whole) return { kind: 'function', code: whole.code, truncated: !whole.closed };
  const first = blocks.find((block) => block.code.trim());
  if (first) return { kind: 'body', code: asBody(first.code), truncated: !first.closed };
  if (codeBlocks(answer).length === 0 && defines.test(answer)) return { kind: 'function', code: leadingCode(answer), truncated: false };
  return { kind: 'none', code: '', truncated: false };
}

/** A body goes under the prompt's `def`: four spaces in, unless it already is indented. */
function asBody(code: string): string {
  const lines = code.replace(/^\s*\n/, '').split('\n');
  const indented = lines.filter((line) => line.trim()).every((line) => /^\s/.test(line));
  return indented ? lines.join('\n') : lines.map((line) => (line.trim() ? `    ${line}` : line)).join('\n');
}

/** Unfenced code: from the first import/def/class/decorator line to the first flush-left line that is not code. */
function leadingCode(answer: string): string {
  const lines = answer.split(/\r?\n/);
  const codeStart = /^(def |async def |class |import |from \S+ import |@)/;
  const start = lines.findIndex((line) => codeStart.test(line));
  const kept: string[] = [];
  for (const line of lines.slice(start)) {
    if (line.trim() && !/^\s/.test(line) && !codeStart.test(line) && !/^[A-Za-z_][\w.]*\s*=/.test(line) && !line.startsWith('#')) break;
    kept.push(line);
  }
  return kept.join('\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first statement of an SQL answer that reads (SELECT or WITH), without the schema or sample data the model may add around it. */
export function extractQuery(answer: string): string | null {
  for (const block of blocksIn(answer, 'sql')) {
    const statements = block.code
      .replace(/--[^\n]*/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .split(';')
      .map((statement) => statement.trim());
    const query = statements.find((statement) => /^(select|with)\b/i.test(statement));
    if (query) return query;
  }
  return null;
}

/** Code in several blocks (models and manifest often come apart); `truncated`: the answer ended inside the last one. */
export interface BlockSet {
  blocks: string[];
  truncated: boolean;
}

function blockSet(blocks: readonly CodeBlock[]): BlockSet {
  return { blocks: blocks.map((block) => block.code), truncated: blocks.length > 0 && !blocks.at(-1)!.closed };
}

/** Every Python block; no blocks when there is none. */
export function pythonBlocks(answer: string): BlockSet {
  return blockSet(blocksIn(answer, 'python').filter((block) => block.code.trim()));
}

/** The JavaScript/TypeScript blocks joined; shell snippets (`npm install …`) are not code to run. */
export function scriptSource(answer: string): { code: string; truncated: boolean } | null {
  const blocks = blocksIn(answer, 'script').filter((block) => block.code.trim() && !/^\s*(npm|npx|yarn|pnpm|node|tsc)\s/.test(block.code));
  return blocks.length ? { code: blocks.map((block) => block.code).join('\n\n'), truncated: !blocks.at(-1)!.closed } : null;
}

/** The answer without its code: fenced blocks and `inline code` removed. */
export function prose(answer: string): string {
  const lines: string[] = [];
  let inside: string | undefined;
  for (const line of answer.split(/\r?\n/)) {
    const fence = /^ *(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence && (!inside || (fence[0] === inside[0] && fence.length >= inside.length && /^ *(`{3,}|~{3,})\s*$/.test(line)))) {
      inside = inside ? undefined : fence;
      continue;
    }
    if (!inside) lines.push(line);
  }
  return lines.join('\n').replace(/`[^`\n]*`/g, ' ');
}

/**
 * Words frequent in one language's prose and rare in the other's (nor keywords): `a`, `as`, `do`,
 * `no`, `se`… are left out, being words of both or of code.
 */
const stopWords = {
  pt: new Set(
    'de que não é para com uma um os em na nas nos da das dos por você pelo pela ao aos à seu sua seus suas este esta isso esse essa isto são também mais muito pode ser ter está estão quando então onde qual quais cada aqui como sobre após já ainda outro outra exemplo função campo campos arquivo modelo usar usando criar vamos abaixo seguinte seguir'.split(
      ' ',
    ),
  ),
  en: new Set(
    'the and of to is that this it for with you are be by an which will can your we from these those there here when then where what each about after already other another example field fields file model using use create let below following how would should must has have does'.split(
      ' ',
    ),
  ),
};

export type Language = 'pt' | 'en' | 'unknown';

/** Which language the answer's prose is in, by stop words; `unknown` for (almost) no prose. */
export function proseLanguage(answer: string): { language: Language; pt: number; en: number } {
  const words =
    prose(answer)
      .toLowerCase()
      .match(/[a-zà-ÿ]+/g) ?? [];
  let pt = 0;
  let en = 0;
  for (const word of words) {
    if (stopWords.pt.has(word)) pt++;
    if (stopWords.en.has(word)) en++;
  }
  const language: Language = pt + en < 3 ? 'unknown' : pt > en ? 'pt' : en > pt ? 'en' : 'unknown';
  return { language, pt, en };
}
