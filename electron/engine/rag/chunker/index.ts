import type { Node, Parser } from 'web-tree-sitter';
import { NpllmError } from '../../../../shared/errors.js';
import type { Chunk, ChunkKind } from '../types.js';
import { jsonOutline, yamlOutline } from './data.js';
import { ecmaScriptOutline } from './ecmascript.js';
import { loadParsers } from './grammars.js';
import { detectLanguage, type ParsedLanguage } from './languages.js';
import { markdownOutline } from './markdown.js';
import { piecesOf, type Outline } from './outline.js';
import { pythonOutline } from './python.js';
import { makeChunk, SourceText, type ChunkTarget } from './source.js';
import { windowPiece } from './windows.js';
import { xmlOutline } from './xml.js';

export { chunkLanguages, detectLanguage, type ChunkLanguage } from './languages.js';

export interface ChunkerOptions {
  /** A definition longer than this is cut into windows that keep its symbol. */
  maxChunkLines: number;
  /** Same, in UTF-16 code units; also the width of the windows cut from one over-long line. */
  maxChunkChars: number;
  /** Rows per window, for plain text, code outside definitions and oversized definitions. */
  windowLines: number;
  /** Rows two consecutive windows share. */
  windowOverlap: number;
  /** Larger files are not parsed, only windowed: parse time grows with size, and such files are generated. */
  maxParseChars: number;
}

export function chunkerDefaults(): ChunkerOptions {
  return { maxChunkLines: 300, maxChunkChars: 8192, windowLines: 60, windowOverlap: 10, maxParseChars: 2_000_000 };
}

export interface SourceFile {
  relativePath: string;
  content: string;
}

export interface Chunker {
  /** Chunks in file order; the same file always gives the same chunks. */
  chunk(file: SourceFile): Chunk[];
  /** Frees the parsers' WebAssembly memory; `chunk` fails afterwards. */
  dispose(): void;
}

const outliners: Record<ParsedLanguage, (root: Node, source: SourceText) => Outline> = {
  python: pythonOutline,
  javascript: ecmaScriptOutline,
  typescript: ecmaScriptOutline,
  tsx: ecmaScriptOutline,
  xml: xmlOutline,
  json: jsonOutline,
  yaml: yamlOutline,
  markdown: markdownOutline,
};

/** Text before a Markdown file's first heading is a section of its own; elsewhere leftovers are windows. */
const leftoverKinds: Partial<Record<ParsedLanguage, ChunkKind>> = { markdown: 'section' };

/** Loads every grammar once (some 50 ms); the chunker then works synchronously, one file at a time. */
export async function createChunker(options: Partial<ChunkerOptions> = {}): Promise<Chunker> {
  const settings = { ...chunkerDefaults(), ...options };
  checkOptions(settings);
  const parsers = await loadParsers();
  let disposed = false;
  return {
    chunk(file) {
      if (disposed) throw new NpllmError('INTERNAL', 'The chunker was used after dispose().', { fix: 'Create a new chunker with createChunker().' });
      return chunkFile(file, settings, parsers);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const parser of parsers.values()) parser.delete();
    },
  };
}

function chunkFile(file: SourceFile, settings: ChunkerOptions, parsers: ReadonlyMap<ParsedLanguage, Parser>): Chunk[] {
  if (!file.content.trim()) return [];
  const language = detectLanguage(file.relativePath);
  const target: ChunkTarget = { relativePath: file.relativePath, language };
  const source = new SourceText(file.content);
  const whole = { kind: 'window', symbol: null, firstRow: 0, lastRow: source.rowCount - 1 } as const;
  const parser = language === 'text' ? undefined : parsers.get(language);
  // A line longer than a chunk means minified or generated code: definitions would all share that line.
  if (language === 'text' || !parser || source.text.length > settings.maxParseChars || source.longestRow() > settings.maxChunkChars) {
    return windowPiece(source, target, whole, settings);
  }
  const tree = parser.parse(source.text);
  if (!tree) return windowPiece(source, target, whole, settings);
  try {
    const { definitions, leftovers } = piecesOf(source, outliners[language](tree.rootNode, source), leftoverKinds[language] ?? 'window');
    const chunks = [
      ...definitions.flatMap((piece) => {
        const oversized =
          piece.lastRow - piece.firstRow + 1 > settings.maxChunkLines ||
          source.rowEnd(piece.lastRow) - source.rowStart(piece.firstRow) > settings.maxChunkChars;
        return oversized
          ? windowPiece(source, target, piece, settings)
          : [makeChunk(target, piece.kind, piece.symbol, piece.firstRow, piece.lastRow, source.rows(piece.firstRow, piece.lastRow))];
      }),
      ...leftovers.flatMap((piece) => windowPiece(source, target, piece, settings)),
    ];
    return chunks.sort((a, b) => a.startLine - b.startLine || a.endLine - b.endLine);
  } finally {
    tree.delete();
  }
}

function checkOptions(options: ChunkerOptions): void {
  const positive = (name: keyof ChunkerOptions): void => {
    if (!Number.isInteger(options[name]) || options[name] < 1) {
      throw new NpllmError('CONFIG_INVALID', `Chunker option ${name} must be a positive integer, got ${options[name]}.`, {
        fix: `Set ${name} to a whole number above 0, or leave it out for ${chunkerDefaults()[name]}.`,
      });
    }
  };
  (['maxChunkLines', 'maxChunkChars', 'windowLines', 'maxParseChars'] as const).forEach(positive);
  if (!Number.isInteger(options.windowOverlap) || options.windowOverlap < 0 || options.windowOverlap >= options.windowLines) {
    throw new NpllmError(
      'CONFIG_INVALID',
      `Chunker option windowOverlap must be a whole number from 0 to windowLines - 1 (${options.windowLines - 1}), got ${options.windowOverlap}.`,
      { fix: 'Lower windowOverlap or raise windowLines.' },
    );
  }
}
