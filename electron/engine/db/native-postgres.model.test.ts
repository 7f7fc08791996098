/**
 * DATABASE_URL against a native PostgreSQL 16 server with pgvector (from the pgserver wheel),
 * through the whole engine: migrations, recording, the response cache.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInteraction } from '../data-collection/queries.js';
import { Engine } from '../engine.js';
import { startNativePostgres, tempHome, testConfig, type NativePostgres, type TempHome, migrationCount } from '../test/support.js';
import { schemaReport } from './queries.js';

let postgres: NativePostgres;
let home: TempHome;
beforeAll(async () => {
  postgres = await startNativePostgres();
  home = tempHome();
});
afterAll(() => {
  postgres.stop();
  home.cleanup();
});

describe('engine on a native PostgreSQL server', () => {
  it('migrates, answers, records and caches exactly as on the embedded database', async () => {
    const engine = await Engine.open(testConfig(home.home, { database: { url: postgres.url } }));
    try {
      expect(engine.database.kind).toBe('postgres');
      const report = await schemaReport(engine.database.db);
      expect(report.extensions).toContain('vector');
      expect(report.tables).toEqual(expect.arrayContaining(['interactions', 'response_cache']));

      const first = await engine.ask({ question: 'What does git rebase do?', maxTokens: 16 });
      expect(first.cached).toBe(false);
      expect((await findInteraction(engine.database.db, first.interactionId))?.status).toBe('completed');
      const second = await engine.ask({ question: 'what does git rebase do', maxTokens: 16 });
      expect(second).toMatchObject({ cached: true, cachedFrom: first.interactionId, answer: first.answer });
    } finally {
      await engine.dispose();
    }
  });

  it('lets engines that start together share a fresh server: one migrates, the others wait', async () => {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('create database fresh');
    await admin.end();
    const config = testConfig(home.home, { database: { url: postgres.url.replace(/\/postgres$/, '/fresh') } });
    const engines = await Promise.all([Engine.open(config), Engine.open(config), Engine.open(config)]);
    try {
      for (const engine of engines) expect((await engine.health()).database.ok).toBe(true);
      expect((await schemaReport(engines[0].database.db)).appliedMigrations).toBe(migrationCount());
    } finally {
      await Promise.all(engines.map((engine) => engine.dispose()));
    }
  });
});
