import type { Node } from 'web-tree-sitter';
import type { ChunkKind } from '../types.js';
import type { Piece, SourceText } from './source.js';

/** A named definition found by a parser: a function, a class and its methods, a section. */
export interface Unit {
  kind: ChunkKind;
  symbol: string | null;
  /** 0-based rows, inclusive, leading decorators and doc comments included. */
  firstRow: number;
  lastRow: number;
  children: Unit[];
}

export interface Outline {
  units: Unit[];
  /** Rows worth nothing on their own (imports, wrapper tags): a leftover run of only these is dropped. */
  ignorableRows: Set<number>;
}

export interface OutlinePieces {
  /** Definitions, cut further only when oversized. */
  definitions: Piece[];
  /** Everything outside the definitions that says something, to be cut into windows. */
  leftovers: Piece[];
}

/** tree-sitter ends a node that swallows its line break at column 0 of the next row. */
export function lastRowOf(node: Node): number {
  const end = node.endPosition;
  return end.column === 0 && end.row > node.startPosition.row ? end.row - 1 : end.row;
}

export function markRows(rows: Set<number>, node: Node): void {
  for (let row = node.startPosition.row; row <= lastRowOf(node); row++) rows.add(row);
}

/** How a sibling before a definition relates to it. */
export type Leading = 'comment' | 'decorator' | 'skip' | 'stop';

/**
 * First row of a definition with what documents it: decorators always, comments when they
 * touch it (no blank line between) and do not trail code on their own row (`x = 1  # note`
 * belongs to `x`).
 */
export function leadingFirstRow(node: Node, classify: (sibling: Node) => Leading): number {
  let first = node.startPosition.row;
  let sibling = node.previousSibling;
  while (sibling) {
    const verdict = classify(sibling);
    if (verdict === 'stop') break;
    const earlier = previousKept(sibling, classify);
    if (verdict === 'comment') {
      if (lastRowOf(sibling) < first - 1) break;
      if (earlier && classify(earlier) === 'stop' && lastRowOf(earlier) === sibling.startPosition.row) break;
    }
    if (verdict !== 'skip') first = sibling.startPosition.row;
    sibling = earlier;
  }
  return first;
}

function previousKept(node: Node, classify: (sibling: Node) => Leading): Node | null {
  let sibling = node.previousSibling;
  while (sibling && classify(sibling) === 'skip') sibling = sibling.previousSibling;
  return sibling;
}

/** Only brackets and separators: the tail of a class or object, never worth a chunk. */
const punctuationOnly = /^[\s{}()[\];,]*$/;

/**
 * Turns an outline into pieces without repeating text: a definition with children (a class with
 * methods) keeps only its own rows (header, docstring, attributes, possibly in several runs
 * between its methods), each child becomes its own piece. Rows outside every definition become
 * leftovers, trimmed of blank and ignorable rows at both ends, unless nothing but punctuation and
 * ignorable rows is left: imports are never chunked, they name other code without saying anything.
 */
export function piecesOf(source: SourceText, outline: Outline, leftoverKind: ChunkKind): OutlinePieces {
  const pieces: OutlinePieces = { definitions: [], leftovers: [] };
  const meaningful = (row: number): boolean => !outline.ignorableRows.has(row) && !punctuationOnly.test(source.row(row));
  const droppable = (row: number): boolean => outline.ignorableRows.has(row) || source.isBlank(row);
  for (const run of uncoveredRuns(0, source.rowCount - 1, outline.units)) {
    const trimmed = trimRows(run, droppable);
    if (trimmed && anyRow(trimmed, meaningful)) pieces.leftovers.push({ kind: leftoverKind, symbol: null, ...trimmed });
  }
  const addUnit = (unit: Unit): void => {
    if (unit.children.length === 0) {
      pieces.definitions.push({ kind: unit.kind, symbol: unit.symbol, firstRow: unit.firstRow, lastRow: unit.lastRow });
      return;
    }
    for (const run of uncoveredRuns(unit.firstRow, unit.lastRow, unit.children)) {
      const trimmed = trimRows(run, (row) => source.isBlank(row));
      if (trimmed && anyRow(trimmed, meaningful)) pieces.definitions.push({ kind: unit.kind, symbol: unit.symbol, ...trimmed });
    }
    unit.children.forEach(addUnit);
  };
  outline.units.forEach(addUnit);
  return pieces;
}

interface RowRun {
  firstRow: number;
  lastRow: number;
}

function uncoveredRuns(firstRow: number, lastRow: number, units: readonly Unit[]): RowRun[] {
  const covered = new Uint8Array(lastRow - firstRow + 1);
  for (const unit of units) covered.fill(1, Math.max(0, unit.firstRow - firstRow), Math.max(0, unit.lastRow - firstRow + 1));
  const runs: RowRun[] = [];
  let start = -1;
  for (let row = firstRow; row <= lastRow + 1; row++) {
    const free = row <= lastRow && covered[row - firstRow] === 0;
    if (free && start === -1) start = row;
    if (!free && start !== -1) {
      runs.push({ firstRow: start, lastRow: row - 1 });
      start = -1;
    }
  }
  return runs;
}

function trimRows(run: RowRun, droppable: (row: number) => boolean): RowRun | null {
  let { firstRow, lastRow } = run;
  while (firstRow <= lastRow && droppable(firstRow)) firstRow++;
  while (lastRow >= firstRow && droppable(lastRow)) lastRow--;
  return firstRow <= lastRow ? { firstRow, lastRow } : null;
}

function anyRow(run: RowRun, test: (row: number) => boolean): boolean {
  for (let row = run.firstRow; row <= run.lastRow; row++) if (test(row)) return true;
  return false;
}
