/**
 * Held-out function completion for `bench:learning`: what a user would see of what the adapter
 * learned. From a held-out Python file, a function's signature and docstring after the file's
 * preceding lines is the prompt; the model writes the body (raw completion, no chat template,
 * greedy, a bounded number of tokens), the body is cut where the function ends, and it is scored
 * against the real body by edit similarity (1 − Levenshtein distance ÷ the longer length, on lines
 * with trailing blanks and empty lines dropped) and exact match.
 */
import { distance } from 'fastest-levenshtein';
import { LlamaCompletion, type LlamaModel } from 'node-llama-cpp';
import { seededRandom } from '../shared/random.js';

export interface HeldOutFunction {
  file: string;
  name: string;
  /** 1-based line of the `def`. */
  line: number;
  hasDocstring: boolean;
  /** The file's preceding lines (at most `contextChars`), the signature and docstring, ending with a newline. */
  prompt: string;
  body: string;
  /** Indentation of the `def`: the body ends at the first line indented no deeper. */
  indent: number;
}

export interface FunctionOptions {
  contextChars: number;
  minBodyLines: number;
  maxBodyLines: number;
  maxBodyChars: number;
}

const defLine = /^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;
const indentOf = (line: string) => line.length - line.trimStart().length;

/** Functions of one Python file whose body fits the options; nested functions and classes in the body are left out. */
export function pythonFunctions(file: string, source: string, options: FunctionOptions): HeldOutFunction[] {
  const lines = source.split('\n');
  const found: HeldOutFunction[] = [];
  for (let start = 0; start < lines.length; start++) {
    const match = defLine.exec(lines[start]!);
    if (!match) continue;
    const indent = match[1]!.length;
    // The signature ends on the line where its brackets close with a colon.
    let depth = 0;
    let signatureEnd = -1;
    for (let index = start; index < lines.length && index < start + 30; index++) {
      for (const char of lines[index]!.replace(/#.*$/, ''))
        depth += char === '(' || char === '[' || char === '{' ? 1 : char === ')' || char === ']' || char === '}' ? -1 : 0;
      if (depth <= 0 && /:\s*(#.*)?$/.test(lines[index]!)) {
        signatureEnd = index;
        break;
      }
    }
    if (signatureEnd === -1) continue;
    let headerEnd = signatureEnd;
    const first = lines[signatureEnd + 1]?.trim() ?? '';
    const quote = /^[rRuU]?("""|''')/.exec(first)?.[1];
    if (quote) {
      const closesOnFirst = first.indexOf(quote, first.indexOf(quote) + 3) !== -1;
      let close = signatureEnd + 1;
      if (!closesOnFirst) {
        close = lines.findIndex((line, index) => index > signatureEnd + 1 && line.includes(quote));
        if (close === -1) continue;
      }
      headerEnd = close;
    }
    let end = headerEnd + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || indentOf(lines[end]!) > indent)) end++;
    const bodyLines = lines.slice(headerEnd + 1, end);
    while (bodyLines.length > 0 && bodyLines.at(-1)!.trim() === '') bodyLines.pop();
    const nonEmpty = bodyLines.filter((line) => line.trim() !== '');
    const body = bodyLines.join('\n');
    if (nonEmpty.length < options.minBodyLines || nonEmpty.length > options.maxBodyLines || body.length > options.maxBodyChars) continue;
    if (nonEmpty.some((line) => /^\s*(async\s+def|def|class)\s/.test(line))) continue;
    const before = lines.slice(0, start).join('\n');
    const cut = before.length > options.contextChars ? before.slice(before.indexOf('\n', before.length - options.contextChars - 1) + 1) : before;
    const header = lines.slice(start, headerEnd + 1).join('\n');
    found.push({ file, name: match[2]!, line: start + 1, hasDocstring: quote !== undefined, prompt: `${cut}${cut ? '\n' : ''}${header}\n`, body, indent });
  }
  return found;
}

/** `count` functions spread over the files (one per file in turn), in an order fixed by `seed`. */
export function pickFunctions(functions: readonly HeldOutFunction[], count: number, seed: number): HeldOutFunction[] {
  const random = seededRandom(seed);
  const byFile = new Map<string, HeldOutFunction[]>();
  for (const fn of functions) byFile.set(fn.file, [...(byFile.get(fn.file) ?? []), fn]);
  const queues = [...byFile.keys()].sort().map((file) => {
    const list = [...byFile.get(file)!];
    for (let index = list.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1));
      [list[index], list[other]] = [list[other]!, list[index]!];
    }
    return list;
  });
  const picked: HeldOutFunction[] = [];
  while (picked.length < count && queues.some((queue) => queue.length > 0)) {
    for (const queue of queues) if (queue.length > 0 && picked.length < count) picked.push(queue.shift()!);
  }
  return picked;
}

/** The generated body up to where the function ends: the first non-empty line indented no deeper than the `def`. */
export function cutBody(generated: string, indent: number): string {
  const lines = generated.split('\n');
  const end = lines.findIndex((line) => line.trim() !== '' && indentOf(line) <= indent);
  const kept = end === -1 ? lines : lines.slice(0, end);
  while (kept.length > 0 && kept.at(-1)!.trim() === '') kept.pop();
  return kept.join('\n');
}

/** Lines without trailing blanks, empty lines dropped: layout noise that says nothing about the code. */
export function normaliseCode(code: string): string {
  return code
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .join('\n');
}

export function editSimilarity(predicted: string, reference: string): number {
  const a = normaliseCode(predicted);
  const b = normaliseCode(reference);
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - distance(a, b) / longer;
}

export function exactMatch(predicted: string, reference: string): boolean {
  return normaliseCode(predicted).replace(/\s+/g, ' ') === normaliseCode(reference).replace(/\s+/g, ' ');
}

export interface CompletionScore {
  file: string;
  name: string;
  editSimilarity: number;
  exactMatch: boolean;
  predicted: string;
}

/** Completes every function with the model, plus the adapter when given (scale 1), greedy, at most `maxTokens` each. */
export async function completeFunctions(
  model: LlamaModel,
  adapter: string | null,
  functions: readonly HeldOutFunction[],
  options: { maxTokens: number; threads: number; contextSize: number },
): Promise<CompletionScore[]> {
  const context = await model.createContext({
    contextSize: options.contextSize,
    threads: options.threads,
    sequences: 1,
    ...(adapter ? { lora: { adapters: [{ filePath: adapter, scale: 1 }] } } : {}),
  });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const scores: CompletionScore[] = [];
    for (const fn of functions) {
      const generated = await completion.generateCompletion(fn.prompt, { maxTokens: options.maxTokens, temperature: 0 });
      const predicted = cutBody(generated, fn.indent);
      scores.push({ file: fn.file, name: fn.name, editSimilarity: editSimilarity(predicted, fn.body), exactMatch: exactMatch(predicted, fn.body), predicted });
    }
    completion.dispose();
    return scores;
  } finally {
    await context.dispose();
  }
}
