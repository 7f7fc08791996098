/**
 * Opens the database npllm keeps everything in: embedded PGlite + pgvector by default, or a
 * PostgreSQL server (with pgvector) through `pg` when `database.url` / DATABASE_URL is set.
 * Both get the same drizzle schema and migrations, applied at start-up.
 */
import { accessSync, constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { DatabaseError, NpllmError, RequestError, withoutQueryText } from '../../../shared/errors.js';
import type { Progress } from '../../../shared/contract.js';
import { makeFolderSync } from '../base/files.js';
import { migrationsFolder } from '../base/paths.js';
import { acquireFileLock } from './lock.js';
import * as schema from './schema.js';

/** Arbitrary but fixed: identifies npllm's migration lock among other applications' advisory locks. */
const migrationLockKey = 0x6e706c6c6d;

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Plain SQL inside a transaction, for bulk work drizzle has no form for (COPY). */
export interface RawExecutor {
  query<Row>(text: string, params?: unknown[]): Promise<Row[]>;
  /** `COPY … FROM '/dev/blob' WITH (FORMAT binary)` with `data` as the blob; absent where the driver cannot. */
  copyFrom?: (text: string, data: Uint8Array) => Promise<void>;
}

export interface Database {
  readonly db: Db;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  rawTransaction<T>(work: (raw: RawExecutor) => Promise<T>): Promise<T>;
  readonly kind: 'pglite' | 'postgres';
  /** Where the data is: the folder, or the server URL without its password. */
  readonly location: string;
  ping(): Promise<void>;
  /**
   * Makes what was committed survive an OS crash or power loss before it is acknowledged. PGlite
   * runs PostgreSQL with fsync off and its file system cannot fsync, so the write-ahead log it
   * wrote is flushed from here; a server does this itself on commit.
   */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  url: string | null;
  dir: string;
  onProgress?: (progress: Progress) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const database = options.url ? await openServer(options.url) : await openEmbedded(options.dir, options.onProgress);
  try {
    await applyMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

async function openEmbedded(dir: string, onProgress?: (progress: Progress) => void): Promise<Database & { migrate(): Promise<void> }> {
  ensureWritableFolder(dirname(dir));
  const lock = acquireFileLock(`${dir}.lock`, `The database ${dir}`);
  let client: PGlite;
  try {
    onProgress?.({ task: 'database-open', label: `Opening the database in ${dir}`, fraction: null, done: false });
    client = await PGlite.create(dir, { extensions: { vector } });
    onProgress?.({ task: 'database-open', label: `Database ready in ${dir}`, fraction: 1, done: true });
  } catch (cause) {
    lock.release();
    throw new DatabaseError('DATABASE_UNAVAILABLE', `Cannot open the embedded database in ${dir}: ${errorMessage(cause)}.`, {
      cause,
      fix: `If the folder was damaged (for example by a crash during its first creation), move it away and npllm will create a new one; to keep the data, restore it from a backup.`,
    });
  }
  const db = drizzlePglite({ client, schema, casing: 'snake_case' });
  return {
    db,
    rawTransaction: (work) =>
      client.transaction((tx) =>
        work({
          query: async <Row>(text: string, params?: unknown[]) => (await tx.query<Row>(text, params)).rows,
          copyFrom: async (text, data) => {
            await tx.query(text, [], { blob: new Blob([data]) });
          },
        }),
      ),
    kind: 'pglite',
    location: dir,
    ping: async () => {
      await client.query('select 1');
    },
    flush: () => syncWriteAheadLog(dir),
    close: closeOnce(async () => {
      try {
        await client.close();
      } finally {
        lock.release();
      }
    }),
    migrate: () => migratePglite(db, { migrationsFolder }),
  };
}

async function openServer(url: string): Promise<Database & { migrate(): Promise<void> }> {
  const location = redactUrl(url);
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 });
  } catch (cause) {
    throw new DatabaseError('DATABASE_UNAVAILABLE', `DATABASE_URL is not a valid PostgreSQL URL (${location}).`, {
      cause,
      fix: 'Use the form postgres://user:password@host:5432/database, or unset DATABASE_URL to use the embedded database.',
    });
  }
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw unreachable(location, cause);
  }
  const db = drizzlePg({ client: pool, schema, casing: 'snake_case' });
  return {
    db,
    rawTransaction: async (work) => {
      const client = await pool.connect().catch((cause: unknown) => {
        throw unreachable(location, cause);
      });
      try {
        await client.query('begin');
        const result = await work({ query: async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[] });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    kind: 'postgres',
    location,
    flush: () => Promise.resolve(),
    ping: async () => {
      try {
        await pool.query('select 1');
      } catch (cause) {
        throw unreachable(location, cause);
      }
    },
    close: closeOnce(() => pool.end()),
    migrate: async () => {
      // Several npllm processes may share one server and start together: one migrates, the others wait.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [migrationLockKey]);
        await migratePg(db, { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [migrationLockKey]).catch(() => undefined);
        client.release();
      }
    },
  };
}

async function applyMigrations(database: Database & { migrate(): Promise<void> }): Promise<void> {
  try {
    await database.migrate();
  } catch (cause) {
    const message = errorMessage(cause);
    const missingVector = /extension "vector"|vector\.control/i.test(message);
    throw new DatabaseError('DATABASE_MIGRATION_FAILED', `Cannot apply the database migrations on ${database.location}: ${message}.`, {
      cause,
      fix: missingVector
        ? 'The PostgreSQL server lacks the pgvector extension: install it on the server (https://github.com/pgvector/pgvector#installation) or unset DATABASE_URL to use the embedded database.'
        : 'Check that the database user may create tables and extensions, and that this npllm is not older than the one that last migrated the database.',
    });
  }
}

/**
 * fsync of the write-ahead log's newest segments: a commit is in the WAL once PostgreSQL returns
 * (synchronous_commit is on; only the fsync is skipped), and replaying the WAL restores it after a
 * crash. Segments are named by position, so the newest two hold every recent commit.
 */
async function syncWriteAheadLog(dir: string): Promise<void> {
  const folder = join(dir, 'pg_wal');
  const segments = (await readdir(folder))
    .filter((name) => /^[0-9A-F]{24}$/.test(name))
    .sort()
    .slice(-2);
  for (const name of segments) {
    const handle = await open(join(folder, name), 'r');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

/** Every query failure that means "the database went away" gets the same actionable error. */
export function unreachable(location: string, cause: unknown): DatabaseError {
  const shown = driverError(cause);
  return new DatabaseError('DATABASE_UNAVAILABLE', `Cannot reach the database at ${location}: ${errorMessage(shown)}.`, {
    cause: shown,
    fix: 'Start the PostgreSQL server or correct DATABASE_URL; unset DATABASE_URL to use the embedded database instead.',
  });
}

/**
 * A failed query as the client should hear of it, by its SQLSTATE: a value the database refused
 * (class 22, 23, 54) is the request's fault, not an outage a client should retry; a lost
 * connection or server is DATABASE_UNAVAILABLE; anything else is a bug. Only the driver's own
 * message is kept: drizzle's wrapper spells out the statement and its parameters.
 */
export function databaseFailure(location: string, error: unknown): NpllmError {
  const shown = driverError(error);
  const sqlState = sqlStateOf(error);
  const message = errorMessage(shown);
  const unavailable = sqlState === null ? isDatabaseFailure(error) : /^(08|53|57P|58)/.test(sqlState);
  if (unavailable) return unreachable(location, shown);
  if (sqlState === '23505')
    return new RequestError('CONFLICT', `The database already holds that record: ${message}.`, {
      cause: shown,
      fix: 'Send a new id, or resend the request unchanged only to retry it.',
    });
  if (sqlState !== null && /^(22|23|54)/.test(sqlState)) {
    return new RequestError('REQUEST_INVALID', `The database refused a value of the request: ${message}.`, {
      cause: shown,
      fix: "Check the request's fields (text must be UTF-8 without NUL characters, numbers within their ranges).",
    });
  }
  return new DatabaseError('INTERNAL', `A database query failed: ${message}.`, {
    cause: shown,
    fix: 'This is a bug in npllm. Re-run with NPLLM_LOG_LEVEL=debug and report the log.',
  });
}

/** The driver's error under drizzle's wrapper, reduced to its name, message and SQLSTATE (drivers attach the query and its parameters too). */
function driverError(error: unknown): Error {
  const inner = withoutQueryText(error);
  if (!(inner instanceof Error)) return new Error(String(inner));
  const code = (inner as { code?: unknown }).code;
  return Object.assign(new Error(inner.message || inner.name), {
    name: inner.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...('severity' in inner ? { severity: (inner as { severity: unknown }).severity } : {}),
  });
}

function sqlStateOf(error: unknown): string | null {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return null;
}

/** True for errors raised by the database or its connection, anywhere in the cause chain. */
export function isDatabaseFailure(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if ('severity' in current || current.name === 'DrizzleQueryError') return true;
    if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
    if (/PGlite is closed|Connection terminated|Client has encountered a connection error/i.test(current.message)) return true;
  }
  return false;
}

export function ensureWritableFolder(dir: string): void {
  try {
    makeFolderSync(dir);
    accessSync(dir, constants.W_OK);
  } catch (cause) {
    throw new NpllmError('DATA_DIR_UNWRITABLE', `The data folder ${dir} cannot be created or written: ${errorMessage(cause)}.`, {
      cause,
      fix: 'Set NPLLM_HOME (or "home" in the config) to a writable folder on a disk, or give your user write access to this one.',
    });
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function closeOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return errorMessage(error.errors[0]);
  const message = error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? errorMessage(error.cause) : '';
  return cause && !message.includes(cause) ? `${message} (${cause})` : message;
}

/**
 * Tries a PostgreSQL URL before anyone relies on it (the settings screen): it must answer within
 * 5 s and offer pgvector. Nothing is created or migrated.
 */
export async function checkDatabaseServer(url: string): Promise<{ kind: 'postgres'; location: string; serverVersion: string | null; pgvector: boolean }> {
  const location = redactUrl(url);
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new DatabaseError('DATABASE_UNAVAILABLE', `${location} is not a PostgreSQL URL.`, {
      fix: 'Use the form postgres://user:password@host:5432/database.',
    });
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const version = await client.query<{ server_version: string }>('show server_version');
    const extension = await client.query<{ name: string }>("select name from pg_available_extensions where name = 'vector'");
    const pgvector = extension.rows.length > 0;
    if (!pgvector) {
      throw new DatabaseError('DATABASE_MIGRATION_FAILED', `The PostgreSQL server at ${location} does not offer the pgvector extension.`, {
        fix: 'Install pgvector on the server (https://github.com/pgvector/pgvector#installation), or keep the embedded database.',
      });
    }
    return { kind: 'postgres', location, serverVersion: version.rows[0]?.server_version ?? null, pgvector };
  } catch (cause) {
    if (cause instanceof NpllmError) throw cause;
    throw new DatabaseError('DATABASE_UNAVAILABLE', `Cannot reach the database at ${location}: ${errorMessage(cause)}.`, {
      cause,
      fix: 'Check the host, port, user, password and database name, and that the server accepts connections from this machine; or keep the embedded database.',
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}
