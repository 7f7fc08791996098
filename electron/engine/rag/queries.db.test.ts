/**
 * The retrieval store on both drivers: embedded PGlite (chunks arrive by binary COPY) and a server
 * through `pg` (batched INSERT), here PGlite behind pglite-socket.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/client.js';
import { tempHome, type TempHome } from '../test/support.js';
import { chunkSearchText } from './search-text.js';
import {
  findPaths,
  findSymbols,
  loadFileStates,
  projectTotals,
  refreshTermStatistics,
  removeFiles,
  replaceFiles,
  searchByText,
  searchByVector,
  upsertProject,
  type IndexedChunk,
  type IndexedFile,
} from './queries.js';

/** A unit vector pointing mostly along `axis`: distances between them are known. */
function axisVector(axis: number, noise = 0): Float32Array {
  const values = new Float32Array(384).fill(noise);
  values[axis] = 1;
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

function chunk(relativePath: string, symbol: string, content: string, axis: number, startLine = 1): IndexedChunk {
  return {
    relativePath,
    language: 'python',
    symbol,
    kind: 'function',
    startLine,
    endLine: startLine + content.split('\n').length - 1,
    content,
    contentHash: createHash('sha256').update(content).digest('hex'),
    searchText: chunkSearchText({ relativePath, symbol, content }),
    embedding: axisVector(axis),
  };
}

function file(relativePath: string, chunks: IndexedChunk[]): IndexedFile {
  return { relativePath, language: 'python', size: 100, mtimeMs: 1, contentHash: `hash-${relativePath}-${chunks.length}`, chunks };
}

const backends: { name: string; open(home: string): Promise<{ database: Database; close(): Promise<void> }> }[] = [
  {
    name: 'PGlite (binary COPY)',
    open: async (home) => {
      const database = await openDatabase({ url: null, dir: join(home, 'db') });
      return { database, close: () => database.close() };
    },
  },
  {
    name: 'pg over the wire (INSERT)',
    open: async () => {
      const backing = await PGlite.create({ extensions: { vector } });
      const server = new PGLiteSocketServer({ db: backing, host: '127.0.0.1', port: 0, maxConnections: 8 });
      await server.start();
      const database = await openDatabase({ url: `postgres://postgres@${server.getServerConn()}/postgres`, dir: '' });
      return {
        database,
        close: async () => {
          await database.close();
          await server.stop();
          await backing.close();
        },
      };
    },
  },
];

describe.each(backends)('retrieval store on $name', (backend) => {
  let home: TempHome;
  let database: Database;
  let close: () => Promise<void>;
  const projectId = 'p1';

  beforeAll(async () => {
    home = tempHome();
    const opened = await backend.open(home.home);
    database = opened.database;
    close = () => opened.close();
    await upsertProject(database.db, { id: projectId, root: '/work/shop', embedderId: 'test' });
    await upsertProject(database.db, { id: 'p2', root: '/work/other', embedderId: 'test' });
    await replaceFiles(database, projectId, [
      file('sale/order.py', [
        chunk('sale/order.py', 'SaleOrder._compute_total', 'def _compute_total(self):\n    return sum(self.lines)', 0),
        chunk('sale/order.py', 'SaleOrder.action_confirm', 'def action_confirm(self):\n    self.state = "sale"', 1, 5),
      ]),
      file('utils/strings.py', [chunk('utils/strings.py', 'reverseString', 'def reverseString(s):\n    return s[::-1]', 2)]),
    ]);
    await replaceFiles(database, 'p2', [file('other.py', [chunk('other.py', 'reverseString', 'def reverseString(s): ...', 2)])]);
    await refreshTermStatistics(database.db, projectId);
    await refreshTermStatistics(database.db, 'p2');
  });
  afterAll(async () => {
    await close();
    home.cleanup();
  });

  it('stores file rows and chunks together', async () => {
    expect(await projectTotals(database.db, projectId)).toEqual({ files: 2, chunks: 3 });
    const states = await loadFileStates(database.db, projectId);
    expect(states.get('utils/strings.py')).toEqual({ size: 100, mtimeMs: 1, contentHash: 'hash-utils/strings.py-1' });
  });

  it('finds the nearest chunks by vector, within the project only', async () => {
    const hits = await searchByVector(database.db, projectId, axisVector(2, 0.01), 2);
    expect(hits[0]).toMatchObject({ relativePath: 'utils/strings.py', symbol: 'reverseString', startLine: 1, endLine: 2 });
    expect(hits[0]!.distance).toBeLessThan(0.05);
    expect(hits.every((hit) => hit.relativePath !== 'other.py')).toBe(true);
  });

  it('finds chunks by split identifiers in full text', async () => {
    const hits = await searchByText(database.db, projectId, ['compute', 'total'], 5);
    expect(hits[0]?.symbol).toBe('SaleOrder._compute_total');
    expect((await searchByText(database.db, projectId, ['reverse'], 5))[0]?.symbol).toBe('reverseString');
  });

  it('leaves out terms most chunks contain, and terms the project lacks', async () => {
    const strict = { maxTermShare: 0.5, minTermChunks: 1, maxTerms: 8 };
    // "def" is in all three chunks: kept, it would match them all.
    expect((await searchByText(database.db, projectId, ['def', 'reverse'], 5, strict)).map((hit) => hit.symbol)).toEqual(['reverseString']);
    expect(await searchByText(database.db, projectId, ['def'], 5, strict)).toEqual([]);
    expect(await searchByText(database.db, projectId, ['nowhere'], 5)).toEqual([]);
    expect((await searchByText(database.db, projectId, ['def'], 5)).length).toBe(3);
  });

  it('looks up symbols by full or last name, and paths by path or file name', async () => {
    expect((await findSymbols(database.db, projectId, ['action_confirm', 'nope'])).sort()).toEqual(['SaleOrder.action_confirm']);
    expect(await findSymbols(database.db, projectId, ['REVERSESTRING'])).toEqual(['reverseString']);
    expect(await findPaths(database.db, projectId, ['strings.py'])).toEqual(['utils/strings.py']);
  });

  it('replaces a file atomically: a failing batch leaves the previous chunks and row', async () => {
    const broken = { ...chunk('utils/strings.py', 'reverseString', 'def reverseString(s): return s', 3), embedding: new Float32Array(3) };
    await expect(replaceFiles(database, projectId, [file('utils/strings.py', [broken])])).rejects.toThrow();
    expect(await projectTotals(database.db, projectId)).toEqual({ files: 2, chunks: 3 });
    expect((await loadFileStates(database.db, projectId)).get('utils/strings.py')?.contentHash).toBe('hash-utils/strings.py-1');
  });

  it('re-indexes a changed file without duplicates and removes deleted files', async () => {
    await replaceFiles(database, projectId, [
      file('utils/strings.py', [
        chunk('utils/strings.py', 'reverse_words', 'def reverse_words(s): ...', 4),
        chunk('utils/strings.py', 'shout', 'def shout(s): ...', 5, 3),
      ]),
    ]);
    expect(await projectTotals(database.db, projectId)).toEqual({ files: 2, chunks: 4 });
    expect(await findSymbols(database.db, projectId, ['reverseString'])).toEqual([]);
    await removeFiles(database, projectId, ['sale/order.py']);
    expect(await projectTotals(database.db, projectId)).toEqual({ files: 1, chunks: 2 });
    expect(await projectTotals(database.db, 'p2')).toEqual({ files: 1, chunks: 1 });
  });
});
