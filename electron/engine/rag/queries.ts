import { and, count, eq, inArray, or, sql } from 'drizzle-orm';
import type { Database, Db, RawExecutor } from '../db/client.js';
import { selectRows } from '../db/sql.js';
import { chunks, projectFiles, projects, projectTerms } from '../db/schema.js';
import { encodeBinaryCopy, type CopyValue } from '../db/copy-binary.js';
import type { Chunk } from './types.js';

export type ProjectRow = typeof projects.$inferSelect;

export interface FileState {
  size: number;
  mtimeMs: number;
  contentHash: string;
}

export interface IndexedChunk extends Chunk {
  searchText: string;
  embedding: Float32Array;
}

export interface IndexedFile extends FileState {
  relativePath: string;
  language: string;
  chunks: IndexedChunk[];
}

export interface ChunkHit {
  id: number;
  contentHash: string;
  relativePath: string;
  language: string;
  symbol: string | null;
  kind: string;
  startLine: number;
  endLine: number;
  content: string;
}

export async function findProject(db: Db, root: string): Promise<ProjectRow | null> {
  const rows = await db.select().from(projects).where(eq(projects.root, root)).limit(1);
  return rows[0] ?? null;
}

/** `secretRules`: the rules a new project's files are checked with; an existing project keeps its own until an index completes. */
export async function upsertProject(db: Db, project: { id: string; root: string; embedderId: string; secretRules?: string }): Promise<void> {
  await db
    .insert(projects)
    .values(project)
    .onConflictDoUpdate({ target: projects.id, set: { embedderId: project.embedderId } });
}

/** `secretRules`: the rules every file of the index has now been checked with. */
export async function markProjectIndexed(db: Db, projectId: string, secretRules: string): Promise<void> {
  await db.update(projects).set({ lastIndexedAt: new Date(), secretRules }).where(eq(projects.id, projectId));
}

export async function loadFileStates(db: Db, projectId: string): Promise<Map<string, FileState>> {
  const rows = await db
    .select({ relativePath: projectFiles.relativePath, size: projectFiles.size, mtimeMs: projectFiles.mtimeMs, contentHash: projectFiles.contentHash })
    .from(projectFiles)
    .where(eq(projectFiles.projectId, projectId));
  return new Map(rows.map((row) => [row.relativePath, { size: row.size, mtimeMs: row.mtimeMs, contentHash: row.contentHash }]));
}

/** A file whose bytes did not change but whose mtime did: remember the new mtime, keep its chunks. */
export async function touchFile(db: Db, projectId: string, relativePath: string, state: FileState): Promise<void> {
  await db
    .update(projectFiles)
    .set({ size: state.size, mtimeMs: state.mtimeMs })
    .where(and(eq(projectFiles.projectId, projectId), eq(projectFiles.relativePath, relativePath)));
}

/**
 * Replaces these files' chunks and file rows in one transaction, so a crash or a cancellation
 * leaves each file either fully indexed as before or fully indexed as now.
 */
export async function replaceFiles(database: Database, projectId: string, files: readonly IndexedFile[]): Promise<void> {
  if (files.length === 0) return;
  const paths = files.map((file) => file.relativePath);
  await database.rawTransaction(async (raw) => {
    await raw.query('delete from chunks where project_id = $1 and relative_path = any($2::text[])', [projectId, paths]);
    const rows = files.flatMap((file) => file.chunks);
    if (raw.copyFrom) await copyChunks(raw, projectId, rows);
    else await insertChunks(raw, projectId, rows);
    await raw.query(
      `insert into project_files (project_id, relative_path, size, mtime_ms, content_hash, language, chunk_count, indexed_at)
       select $1, * , now() from unnest($2::text[], $3::bigint[], $4::float8[], $5::text[], $6::text[], $7::int[])
       on conflict (project_id, relative_path) do update set size = excluded.size, mtime_ms = excluded.mtime_ms,
         content_hash = excluded.content_hash, language = excluded.language, chunk_count = excluded.chunk_count, indexed_at = now()`,
      [
        projectId,
        paths,
        files.map((file) => file.size),
        files.map((file) => file.mtimeMs),
        files.map((file) => file.contentHash),
        files.map((file) => file.language),
        files.map((file) => file.chunks.length),
      ],
    );
  });
}

const chunkColumns = 'project_id, relative_path, language, symbol, kind, start_line, end_line, content, content_hash, search_text, embedding';

async function copyChunks(raw: RawExecutor, projectId: string, rows: readonly IndexedChunk[]): Promise<void> {
  if (rows.length === 0) return;
  const data = encodeBinaryCopy(
    rows.map((chunk): CopyValue[] => [
      { type: 'text', value: projectId },
      { type: 'text', value: chunk.relativePath },
      { type: 'text', value: chunk.language },
      { type: 'text', value: chunk.symbol },
      { type: 'text', value: chunk.kind },
      { type: 'int4', value: chunk.startLine },
      { type: 'int4', value: chunk.endLine },
      { type: 'text', value: chunk.content },
      { type: 'text', value: chunk.contentHash },
      { type: 'text', value: chunk.searchText },
      { type: 'vector', value: chunk.embedding },
    ]),
  );
  await raw.copyFrom!(`copy chunks (${chunkColumns}) from '/dev/blob' with (format binary)`, data);
}

async function insertChunks(raw: RawExecutor, projectId: string, rows: readonly IndexedChunk[]): Promise<void> {
  // Batches keep each statement's parameter list well under PostgreSQL's 65,535 limit.
  for (let start = 0; start < rows.length; start += 500) {
    const batch = rows.slice(start, start + 500);
    await raw.query(
      `insert into chunks (${chunkColumns})
       select $1, path, language, symbol, kind, start_line, end_line, content, content_hash, search_text, embedding::vector
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[])
         as t(path, language, symbol, kind, start_line, end_line, content, content_hash, search_text, embedding)`,
      [
        projectId,
        batch.map((chunk) => chunk.relativePath),
        batch.map((chunk) => chunk.language),
        batch.map((chunk) => chunk.symbol),
        batch.map((chunk) => chunk.kind),
        batch.map((chunk) => chunk.startLine),
        batch.map((chunk) => chunk.endLine),
        batch.map((chunk) => chunk.content),
        batch.map((chunk) => chunk.contentHash),
        batch.map((chunk) => chunk.searchText),
        batch.map((chunk) => vectorLiteral(chunk.embedding)),
      ],
    );
  }
}

export async function removeFiles(database: Database, projectId: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await database.rawTransaction(async (raw) => {
    await raw.query('delete from chunks where project_id = $1 and relative_path = any($2::text[])', [projectId, paths]);
    await raw.query('delete from project_files where project_id = $1 and relative_path = any($2::text[])', [projectId, paths]);
  });
}

/** Whether the project has any chunk, without counting them all (a count costs ~0.1 s at 100k). */
export async function projectHasChunks(db: Db, projectId: string): Promise<boolean> {
  const [row] = await selectRows<{ found: boolean }>(db, sql`select exists (select 1 from chunks where project_id = ${projectId}) as found`);
  return row?.found === true;
}

/** PGlite runs no autovacuum: without statistics the planner ignores the HNSW index and sorts every row. */
export async function refreshStatistics(db: Db): Promise<void> {
  await db.execute(sql`analyze chunks`);
  await db.execute(sql`analyze project_files`);
}

export async function projectTotals(db: Db, projectId: string): Promise<{ files: number; chunks: number }> {
  const [files] = await db.select({ value: count() }).from(projectFiles).where(eq(projectFiles.projectId, projectId));
  const [chunkTotal] = await db.select({ value: count() }).from(chunks).where(eq(chunks.projectId, projectId));
  return { files: files?.value ?? 0, chunks: chunkTotal?.value ?? 0 };
}

/** The columns every search returns (a `ChunkHit`). */
export const hitColumns = {
  id: chunks.id,
  contentHash: chunks.contentHash,
  relativePath: chunks.relativePath,
  language: chunks.language,
  symbol: chunks.symbol,
  kind: chunks.kind,
  startLine: chunks.startLine,
  endLine: chunks.endLine,
  content: chunks.content,
};

const iterativeScanSupport = new WeakMap<Db, Promise<boolean>>();

/** pgvector ≥ 0.8 can keep scanning the HNSW graph until a filtered query has enough rows. */
function supportsIterativeScan(db: Db): Promise<boolean> {
  let known = iterativeScanSupport.get(db);
  if (!known) {
    known = selectRows<{ version: string }>(db, sql`select extversion as version from pg_extension where extname = 'vector'`).then(([row]) => {
      const [major = 0, minor = 0] = (row?.version ?? '0.0').split('.').map(Number);
      return major > 0 || minor >= 8;
    });
    iterativeScanSupport.set(db, known);
  }
  return known;
}

/** Nearest chunks by cosine distance (HNSW), closest first. */
export async function searchByVector(db: Db, projectId: string, embedding: Float32Array, limit: number): Promise<(ChunkHit & { distance: number })[]> {
  const iterative = await supportsIterativeScan(db);
  const literal = vectorLiteral(embedding);
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local hnsw.ef_search = ${sql.raw(String(Math.max(64, limit * 2)))}`);
    if (iterative) await tx.execute(sql`set local hnsw.iterative_scan = relaxed_order`);
    const distance = sql<number>`${chunks.embedding} <=> ${literal}::vector`;
    return tx
      .select({ ...hitColumns, distance })
      .from(chunks)
      .where(eq(chunks.projectId, projectId))
      .orderBy(distance)
      .limit(limit);
  });
}

export interface TextSearchOptions {
  /** Terms in more than this share of the project's chunks are left out: they match nearly everything and rank nothing. */
  maxTermShare: number;
  /** …unless they occur in at most this many chunks: in a small project every term is in a large share. */
  minTermChunks: number;
  /** The rarest terms kept. */
  maxTerms: number;
}

export const textSearchDefaults: TextSearchOptions = { maxTermShare: 0.2, minTermChunks: 10, maxTerms: 8 };

/**
 * Full-text matches of the question's rarer terms (identifiers split as in search_text), best
 * ranked first. Terms the project does not contain are dropped and the rest kept rarest first
 * (document frequencies from `project_terms`): an OR of every word of a docstring matched most
 * chunks, and ranking them all cost 66 ms at 3,000 chunks (BENCHMARKS.md).
 */
export async function searchByText(
  db: Db,
  projectId: string,
  terms: readonly string[],
  limit: number,
  options: TextSearchOptions = textSearchDefaults,
): Promise<(ChunkHit & { rank: number })[]> {
  if (terms.length === 0) return [];
  const picked = sql`(
    select to_tsquery('simple', string_agg(quote_literal(term), ' | '))
    from (
      select t.term from ${projectTerms} t
      where t.project_id = ${projectId} and t.term in (${sql.join(
        terms.map((term) => sql`${term}`),
        sql`, `,
      )})
        and t.chunks <= greatest(${options.minTermChunks}::int, ${options.maxTermShare}::float8 * (select p.term_stats_chunks from ${projects} p where p.id = ${projectId}))
      order by t.chunks, t.term
      limit ${options.maxTerms}
    ) rare
  )`;
  // Normalisation 2 divides by document length: otherwise long chunks full of common words win.
  const rank = sql<number>`ts_rank_cd(${chunks.searchVector}, ${picked}, 2)`;
  return db
    .select({ ...hitColumns, rank })
    .from(chunks)
    .where(and(eq(chunks.projectId, projectId), sql`${chunks.searchVector} @@ ${picked}`))
    .orderBy(sql`${rank} desc`)
    .limit(limit);
}

/** Recounts in how many chunks each term of the project occurs (`ts_stat`), and the chunks counted. */
export async function refreshTermStatistics(db: Db, projectId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(projectTerms).where(eq(projectTerms.projectId, projectId));
    await tx.execute(sql`
      insert into ${projectTerms} (project_id, term, chunks)
      select ${projectId}, word, ndoc from ts_stat(format('select search_vector from chunks where project_id = %L', ${projectId}::text))`);
    await tx
      .update(projects)
      .set({ termStatsChunks: sql`(select count(*)::int from ${chunks} where ${chunks.projectId} = ${projectId})` })
      .where(eq(projects.id, projectId));
  });
}

/** Which of these names are symbols (or the last part of a qualified symbol) in the project. */
export async function findSymbols(db: Db, projectId: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const lowered = names.map((name) => name.toLowerCase());
  const rows = await db
    .selectDistinct({ symbol: chunks.symbol })
    .from(chunks)
    .where(
      and(
        eq(chunks.projectId, projectId),
        or(inArray(sql`lower(${chunks.symbol})`, lowered), inArray(sql`lower(split_part(${chunks.symbol}, '.', -1))`, lowered)),
      ),
    )
    .limit(50);
  return rows.map((row) => row.symbol!).filter(Boolean);
}

/** Which of these paths (or file names) exist in the project. */
export async function findPaths(db: Db, projectId: string, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const rows = await db
    .select({ relativePath: projectFiles.relativePath })
    .from(projectFiles)
    .where(
      and(
        eq(projectFiles.projectId, projectId),
        or(inArray(projectFiles.relativePath, [...paths]), inArray(sql`split_part(${projectFiles.relativePath}, '/', -1)`, [...paths])),
      ),
    )
    .limit(50);
  return rows.map((row) => row.relativePath);
}

export async function chunksByIds(db: Db, ids: readonly number[]): Promise<ChunkHit[]> {
  if (ids.length === 0) return [];
  return db
    .select(hitColumns)
    .from(chunks)
    .where(inArray(chunks.id, [...ids]));
}

function vectorLiteral(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}
