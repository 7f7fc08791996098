import { createHash } from 'node:crypto';
import type { Chunk, ChunkKind } from '../types.js';

/**
 * A file's text seen as rows. Rows are split on `\n` only, as tree-sitter counts them, so a
 * parser's row numbers index this table directly whatever the encoding of the characters before
 * them; a `\r` before the `\n` stays part of its row and is trimmed only at the end of a chunk.
 * Offsets are UTF-16 code units, the unit of JavaScript strings.
 */
export class SourceText {
  readonly text: string;
  readonly rowCount: number;
  private readonly rowStarts: number[];

  constructor(text: string) {
    this.text = text;
    const starts = [0];
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
    this.rowStarts = starts;
    this.rowCount = starts.length;
  }

  rowStart(row: number): number {
    return this.rowStarts[row] ?? this.text.length;
  }

  /** End of the row's text, before its `\n` or `\r\n`. */
  rowEnd(row: number): number {
    const next = this.rowStarts[row + 1];
    if (next === undefined) return this.text.length;
    return this.text.charCodeAt(next - 2) === 13 && next - 2 >= this.rowStart(row) ? next - 2 : next - 1;
  }

  rowLength(row: number): number {
    return this.rowEnd(row) - this.rowStart(row);
  }

  row(row: number): string {
    return this.text.slice(this.rowStart(row), this.rowEnd(row));
  }

  isBlank(row: number): boolean {
    return /^\s*$/.test(this.row(row));
  }

  /** Rows `first..last` inclusive, line breaks between them kept as written. */
  rows(first: number, last: number): string {
    return this.text.slice(this.rowStart(first), this.rowEnd(last));
  }

  longestRow(): number {
    let longest = 0;
    for (let row = 0; row < this.rowCount; row++) longest = Math.max(longest, this.rowLength(row));
    return longest;
  }
}

/** What a chunk is before it has text: a run of rows with a name and a kind. */
export interface Piece {
  kind: ChunkKind;
  symbol: string | null;
  /** 0-based, inclusive, as tree-sitter counts rows. */
  firstRow: number;
  lastRow: number;
}

export interface ChunkTarget {
  relativePath: string;
  language: string;
}

export function makeChunk(target: ChunkTarget, kind: ChunkKind, symbol: string | null, firstRow: number, lastRow: number, content: string): Chunk {
  return {
    relativePath: target.relativePath,
    language: target.language,
    symbol,
    kind,
    startLine: firstRow + 1,
    endLine: lastRow + 1,
    content,
    contentHash: createHash('sha256').update(content).digest('hex'),
  };
}
