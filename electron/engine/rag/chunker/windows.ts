import type { Chunk } from '../types.js';
import { makeChunk, type ChunkTarget, type Piece, type SourceText } from './source.js';

export interface WindowLimits {
  windowLines: number;
  windowOverlap: number;
  maxChunkChars: number;
}

/**
 * Cuts a piece into windows of at most `windowLines` rows and `maxChunkChars` characters that
 * overlap by `windowOverlap` rows, so a statement cut at one window's edge is whole in the next.
 * A row longer than `maxChunkChars` (minified code, data URLs) is cut by characters with the
 * same proportion of overlap. Blank rows at a window's edges are trimmed and windows of whitespace
 * only are left out: nothing to find there.
 */
export function windowPiece(source: SourceText, target: ChunkTarget, piece: Piece, limits: WindowLimits): Chunk[] {
  const chunks: Chunk[] = [];
  let start = piece.firstRow;
  while (start <= piece.lastRow) {
    if (source.rowLength(start) > limits.maxChunkChars) {
      chunks.push(...characterWindows(source, target, piece, start, limits));
      start++;
      continue;
    }
    let end = start;
    let chars = source.rowLength(start);
    while (end < piece.lastRow && end + 1 - start < limits.windowLines) {
      const grown = chars + 1 + source.rowLength(end + 1);
      if (grown > limits.maxChunkChars) break;
      end++;
      chars = grown;
    }
    let [first, last] = [start, end];
    while (first < last && source.isBlank(first)) first++;
    while (last > first && source.isBlank(last)) last--;
    if (!source.isBlank(first)) chunks.push(makeChunk(target, piece.kind, piece.symbol, first, last, source.rows(first, last)));
    if (end >= piece.lastRow) break;
    const overlapped = end + 1 - limits.windowOverlap;
    start = overlapped > start ? overlapped : end + 1;
  }
  return chunks;
}

function characterWindows(source: SourceText, target: ChunkTarget, piece: Piece, row: number, limits: WindowLimits): Chunk[] {
  const text = source.row(row);
  const size = limits.maxChunkChars;
  const overlap = Math.floor((size * limits.windowOverlap) / limits.windowLines);
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < text.length) {
    const end = Math.min(text.length, Math.max(start + 1, wholeCodePoint(text, start + size)));
    const content = text.slice(start, end);
    if (content.trim()) chunks.push(makeChunk(target, piece.kind, piece.symbol, row, row, content));
    if (end >= text.length) break;
    const next = wholeCodePoint(text, end - overlap);
    start = next > start ? next : end;
  }
  return chunks;
}

/** Moves a cut off the middle of a surrogate pair, which would leave both halves unreadable. */
function wholeCodePoint(text: string, at: number): number {
  const code = text.charCodeAt(at);
  const before = text.charCodeAt(at - 1);
  return code >= 0xdc00 && code <= 0xdfff && before >= 0xd800 && before <= 0xdbff ? at - 1 : at;
}
