/**
 * A docstring→code retrieval set built from a real repository. Every function or method whose
 * docstring (Python) or JSDoc (JS/TS) opens with at least 8 words gives a query, the first
 * sentence (or the first paragraph when that sentence is shorter), and a target, the function.
 * The repository is copied and the sampled targets lose their docstrings in the copy, so a query
 * can only find its function through what the code itself says.
 *
 * Functions are the ones the engine's chunker makes chunks of; docstrings are found in the same
 * tree-sitter trees (the engine's grammars), by node, not by pattern.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Node, Parser } from 'web-tree-sitter';
import { loadParsers } from '../electron/engine/rag/chunker/grammars.js';
import { createChunker, detectLanguage, type ChunkLanguage } from '../electron/engine/rag/chunker/index.js';
import { lastRowOf } from '../electron/engine/rag/chunker/outline.js';
import { SourceText } from '../electron/engine/rag/chunker/source.js';
import type { Chunk } from '../electron/engine/rag/types.js';
import { readProjectFile } from '../electron/engine/rag/read-file.js';
import { walkProject } from '../electron/engine/rag/walker.js';

export interface Target {
  relativePath: string;
  /** 1-based, inclusive, in the stripped copy. */
  startLine: number;
  endLine: number;
}

export interface RetrievalQuery {
  text: string;
  /** Functions sharing this exact docstring opening (copies, overloads): finding any one counts. */
  targets: Target[];
}

export interface RetrievalSet {
  /** The stripped copy, ready to index. */
  root: string;
  queries: RetrievalQuery[];
  /** Distinct docstring openings found, before sampling. */
  candidates: number;
  sourceFiles: number;
  strippedFiles: number;
}

export interface RetrievalSetOptions {
  maxQueries: number;
  minWords: number;
  random: () => number;
}

/** A function with a usable docstring, in the original file. */
interface Documented {
  relativePath: string;
  symbol: string;
  /** 0-based rows of the function as the chunker cut it, docstring included. */
  firstRow: number;
  lastRow: number;
  edit: RowEdit;
  query: string;
}

/** Rows holding only the docstring, dropped from the copy; Python needs `pass` where nothing else is left. */
interface RowEdit {
  firstRow: number;
  lastRow: number;
  replacement: string | null;
}

interface SourceFile {
  absolutePath: string;
  source: SourceText;
}

const parsedLanguages = new Set<ChunkLanguage>(['python', 'javascript', 'typescript', 'tsx']);

/**
 * Copies `sources` (folders, each into a subfolder named after it) to `destination`, finds the
 * documented functions with the engine's walker and chunker, samples `maxQueries` distinct
 * queries and strips their targets' docstrings in the copy.
 */
export async function buildRetrievalSet(sources: readonly string[], destination: string, options: RetrievalSetOptions): Promise<RetrievalSet> {
  mkdirSync(destination, { recursive: true });
  const names = new Set<string>();
  for (const source of sources) {
    let name = basename(source);
    while (names.has(name)) name = `${name}_`;
    names.add(name);
    cpSync(source, join(destination, name), { recursive: true });
  }

  const chunker = await createChunker();
  const parsers = await loadParsers();
  const files = new Map<string, SourceFile>();
  const byQuery = new Map<string, Documented[]>();
  let sourceFiles = 0;
  try {
    for await (const entry of walkProject(destination)) {
      const language = detectLanguage(entry.relativePath);
      const parser = parsers.get(language as Exclude<ChunkLanguage, 'text'>);
      if (!parsedLanguages.has(language) || !parser) continue;
      const read = await readProjectFile(entry);
      if (!read.ok) continue;
      sourceFiles++;
      const source = new SourceText(read.content);
      const documented = documentedFunctions(
        entry.relativePath,
        language,
        source,
        chunker.chunk({ relativePath: entry.relativePath, content: read.content }),
        parser,
        options.minWords,
      );
      if (documented.length === 0) continue;
      files.set(entry.relativePath, { absolutePath: entry.absolutePath, source });
      for (const found of documented) {
        const key = found.query.toLowerCase();
        byQuery.set(key, [...(byQuery.get(key) ?? []), found]);
      }
    }
  } finally {
    chunker.dispose();
    for (const parser of parsers.values()) parser.delete();
  }

  const sampled = shuffle([...byQuery.keys()].sort(), options.random).slice(0, options.maxQueries);
  const editsByFile = new Map<string, Documented[]>();
  for (const key of sampled)
    for (const found of byQuery.get(key)!) editsByFile.set(found.relativePath, [...(editsByFile.get(found.relativePath) ?? []), found]);

  const targets = new Map<Documented, Target>();
  for (const [relativePath, documented] of editsByFile) {
    const file = files.get(relativePath)!;
    const { text, newRowOf } = applyEdits(
      file.source,
      documented.map((found) => found.edit),
    );
    writeFileSync(file.absolutePath, text);
    for (const found of documented) {
      const kept: number[] = [];
      for (let row = found.firstRow; row <= found.lastRow; row++) if (newRowOf[row]! >= 0) kept.push(newRowOf[row]!);
      targets.set(found, { relativePath, startLine: kept[0]! + 1, endLine: kept[kept.length - 1]! + 1 });
    }
  }

  return {
    root: destination,
    queries: sampled.map((key) => {
      const documented = byQuery.get(key)!;
      return { text: documented[0]!.query, targets: documented.map((found) => targets.get(found)!) };
    }),
    candidates: byQuery.size,
    sourceFiles,
    strippedFiles: editsByFile.size,
  };
}

function documentedFunctions(
  relativePath: string,
  language: ChunkLanguage,
  source: SourceText,
  chunks: readonly Chunk[],
  parser: Parser,
  minWords: number,
): Documented[] {
  const tree = parser.parse(source.text);
  if (!tree) return [];
  try {
    const find = language === 'python' ? pythonDocstring(tree.rootNode) : jsDocComment(tree.rootNode);
    const found: Documented[] = [];
    for (const definition of functionRanges(chunks)) {
      const doc = find(definition, source);
      if (!doc) continue;
      const query = queryOf(doc.text);
      if (wordCount(query) < minWords) continue;
      found.push({ relativePath, ...definition, edit: doc.edit, query });
    }
    return found;
  } finally {
    tree.delete();
  }
}

interface FunctionRange {
  symbol: string;
  firstRow: number;
  lastRow: number;
}

/** A function longer than a chunk comes as overlapping windows with its symbol: put back together. */
function functionRanges(chunks: readonly Chunk[]): FunctionRange[] {
  const ranges: FunctionRange[] = [];
  for (const chunk of chunks) {
    if ((chunk.kind !== 'function' && chunk.kind !== 'method') || !chunk.symbol) continue;
    const previous = ranges[ranges.length - 1];
    if (previous?.symbol === chunk.symbol && chunk.startLine - 1 <= previous.lastRow) previous.lastRow = Math.max(previous.lastRow, chunk.endLine - 1);
    else ranges.push({ symbol: chunk.symbol, firstRow: chunk.startLine - 1, lastRow: chunk.endLine - 1 });
  }
  return ranges;
}

type DocFinder = (definition: FunctionRange, source: SourceText) => { text: string; edit: RowEdit } | null;

/** The first statement of the function's body, when it is a string alone on its rows. */
function pythonDocstring(root: Node): DocFinder {
  const definitions = root.descendantsOfType('function_definition');
  return (definition, source) => {
    const name = definition.symbol.slice(definition.symbol.lastIndexOf('.') + 1);
    // The outermost `def` of that name inside the chunk: a nested function may share the name.
    const node = definitions.find(
      (candidate) =>
        candidate.startPosition.row >= definition.firstRow &&
        candidate.startPosition.row <= definition.lastRow &&
        candidate.childForFieldName('name')?.text === name,
    );
    const statements = node?.childForFieldName('body')?.namedChildren.filter((child) => child.type !== 'comment') ?? [];
    const first = statements[0];
    const literal = first?.type === 'expression_statement' && first.namedChildren.length === 1 ? first.namedChildren[0] : undefined;
    if (!first || literal?.type !== 'string' || !aloneOnItsRows(first, source)) return null;
    const content = /^[rRuU]?("""|'''|"|')([\s\S]*)\1$/.exec(literal.text)?.[2];
    if (content === undefined) return null;
    const indent = /^\s*/.exec(source.row(first.startPosition.row))![0];
    return {
      text: content,
      edit: { firstRow: first.startPosition.row, lastRow: lastRowOf(first), replacement: statements.length === 1 ? `${indent}pass` : null },
    };
  };
}

/** The `/** … *\/` comment among the comments and decorators the chunker put above the definition. */
function jsDocComment(root: Node): DocFinder {
  const commentsByRow = new Map<number, Node>();
  for (const comment of root.descendantsOfType('comment'))
    if (!commentsByRow.has(comment.startPosition.row)) commentsByRow.set(comment.startPosition.row, comment);
  return (definition, source) => {
    let doc: Node | null = null;
    let node = commentsByRow.get(definition.firstRow) ?? null;
    while (node && (node.type === 'comment' || node.type === 'decorator')) {
      if (node.type === 'comment' && node.text.startsWith('/**')) doc = node;
      node = node.nextSibling;
    }
    if (!doc || !node || node.startPosition.row > definition.lastRow || !aloneOnItsRows(doc, source)) return null;
    return { text: jsDocText(doc.text), edit: { firstRow: doc.startPosition.row, lastRow: lastRowOf(doc), replacement: null } };
  };
}

/** Dropping the rows must drop nothing but the node. */
function aloneOnItsRows(node: Node, source: SourceText): boolean {
  return source.rows(node.startPosition.row, lastRowOf(node)).trim() === node.text.trim();
}

/** The description: without the comment's frame, before the first block tag, `{@link X}` as X. */
function jsDocText(comment: string): string {
  const lines: string[] = [];
  for (const line of comment
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')) {
    const text = line.replace(/^\s*\*?\s?/, '');
    if (text.trimStart().startsWith('@')) break;
    lines.push(text);
  }
  return lines.join('\n').replace(/\{@link\w*\s+([^}\s|]+)\s*\|?\s*([^}]*)\}/g, (_, target: string, label: string) => label.trim() || target);
}

/** The first sentence when it says enough, else the first paragraph; one line. */
function queryOf(docstring: string): string {
  const paragraph = (docstring.split(/\n\s*\n/).find((part) => part.trim()) ?? '').replace(/\s+/g, ' ').trim();
  const sentence = /^.+?[.!?](?=\s|$)/.exec(paragraph)?.[0];
  return sentence && wordCount(sentence) >= 8 ? sentence : paragraph;
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** The file without the edited rows, and where each old row went (−1: dropped). Line endings are kept as written. */
function applyEdits(source: SourceText, edits: readonly RowEdit[]): { text: string; newRowOf: Int32Array } {
  const newRowOf = new Int32Array(source.rowCount).fill(-1);
  const editAt = new Map(edits.map((edit) => [edit.firstRow, edit]));
  const parts: string[] = [];
  for (let row = 0; row < source.rowCount; row++) {
    const edit = editAt.get(row);
    if (!edit) {
      newRowOf[row] = parts.length;
      parts.push(source.text.slice(source.rowStart(row), source.rowStart(row + 1)));
      continue;
    }
    if (edit.replacement !== null) {
      newRowOf[row] = parts.length;
      const lineBreak = source.text.slice(source.rowEnd(edit.lastRow), source.rowStart(edit.lastRow + 1));
      parts.push(`${edit.replacement}${lineBreak}`);
    }
    row = edit.lastRow;
  }
  return { text: parts.join(''), newRowOf };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
