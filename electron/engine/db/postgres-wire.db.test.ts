/**
 * The DATABASE_URL path, tested against a real PostgreSQL wire-protocol server: PGlite with
 * pgvector served by pglite-socket on 127.0.0.1, reached through the `pg` driver.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NpllmError } from '../../../shared/errors.js';
import { newInteractionId } from '../data-collection/ids.js';
import { completeInteraction, findInteraction, insertInteraction, listInteractions } from '../data-collection/queries.js';
import { countCacheHit, findCachedAnswer, storeCachedAnswer } from '../pipeline/queries.js';
import { openDatabase } from './client.js';
import { schemaReport } from './queries.js';
import { migrationCount } from '../test/support.js';

let server: PGLiteSocketServer;
let backing: PGlite;
let url: string;

beforeAll(async () => {
  backing = await PGlite.create({ extensions: { vector } });
  server = new PGLiteSocketServer({ db: backing, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const address = server.getServerConn();
  url = `postgres://postgres:postgres@${address}/postgres`;
});

afterAll(async () => {
  await server.stop();
  await backing.close();
});

describe('openDatabase over the wire', () => {
  it('migrates the server and runs the same queries as the embedded database', async () => {
    const database = await openDatabase({ url, dir: '' });
    try {
      expect(database.kind).toBe('postgres');
      expect(database.location).not.toContain(':postgres@');
      expect((await schemaReport(database.db)).extensions).toContain('vector');

      const id = newInteractionId();
      await insertInteraction(database.db, {
        id,
        source: 'api',
        question: 'Como criar um modelo Odoo?',
        normalizedQuestion: 'como criar um modelo odoo',
        history: [{ role: 'user', content: 'oi' }],
        project: '/srv/odoo',
        cacheKey: 'key-1',
        status: 'pending',
        model: 'm',
        modelFingerprint: 'f',
        adapters: [{ name: 'odoo', version: '1', scale: 1 }],
      });
      await database.db.transaction(async (tx) => {
        await completeInteraction(tx, id, 'class Model(models.Model): ...', { ttftMs: 1, totalMs: 2, tokens: 3, promptTokens: 4, loadMs: 0 });
        await storeCachedAnswer(tx, { cacheKey: 'key-1', interactionId: id, answer: 'class Model(models.Model): ...', tokens: 3, modelFingerprint: 'f' });
      });
      await countCacheHit(database.db, 'key-1');

      const record = await findInteraction(database.db, id);
      expect(record).toMatchObject({ status: 'completed', history: [{ role: 'user', content: 'oi' }], adapters: [{ name: 'odoo', version: '1', scale: 1 }] });
      expect(record?.timings?.tokens).toBe(3);
      expect((await findCachedAnswer(database.db, 'key-1'))?.hits).toBe(1);
      expect((await listInteractions(database.db, { limit: 10, project: '/srv/odoo' })).map((item) => item.id)).toEqual([id]);
    } finally {
      await database.close();
    }
  });

  it('applies migrations once when a second client connects', async () => {
    const first = await openDatabase({ url, dir: '' });
    await first.close();
    const second = await openDatabase({ url, dir: '' });
    expect((await schemaReport(second.db)).appliedMigrations).toBe(migrationCount());
    await second.close();
  });

  it('turns a server that goes away into DATABASE_UNAVAILABLE', async () => {
    const lonely = await PGlite.create({ extensions: { vector } });
    const doomed = new PGLiteSocketServer({ db: lonely, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await doomed.start();
    const database = await openDatabase({ url: `postgres://postgres@${doomed.getServerConn()}/postgres`, dir: '' });
    await doomed.stop();
    const error = await database.ping().then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(NpllmError);
    expect((error as NpllmError).code).toBe('DATABASE_UNAVAILABLE');
    await database.close();
    await lonely.close();
  });
});
