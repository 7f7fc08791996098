/** Learning metrics on a real PGlite, over the history `seedLearningHistory` writes. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearningRunRecord } from '../../../shared/contract.js';
import { openDatabase, type Database } from '../db/client.js';
import { tempHome, type TempHome } from '../test/support.js';
import { learningStats } from './learning.js';
import { seededProjects, seedLearningHistory } from '../test/learning-history.js';

let home: TempHome;
let database: Database;

const { shop, crm, pos, hr } = seededProjects;
const rounded = (matrix: (number | null)[][]) => matrix.map((row) => row.map((value) => (value === null ? null : Math.round(value * 1e6) / 1e6)));

beforeAll(async () => {
  home = tempHome('npllm-learning-metrics-');
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  await seedLearningHistory(database.db);
});

afterAll(async () => {
  await database.close();
  home.cleanup();
});

describe('learningStats', () => {
  it('builds the forgetting matrix, gain and BWT of every adapter, sorted by name', async () => {
    const stats = await learningStats(database.db, {});
    expect(stats.adapters.map((adapter) => adapter.adapter)).toEqual(['django', 'odoo']);
    const odoo = stats.adapters[1]!;
    expect(odoo.projects).toEqual([shop, crm, pos, hr]);
    expect(odoo.versions.map((row) => [row.version, row.channel, row.project])).toEqual([
      [0, 'base', null],
      [1, 'archived', shop],
      [2, 'archived', crm],
      [3, 'stable', pos],
      [4, 'experimental', hr],
    ]);
    expect(odoo.versions[1]!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(odoo.nll).toEqual([
      [2.0, 4.0, 1.0, 2.5],
      [1.5, 3.8, null, null],
      [1.6, 3.0, null, null],
      [1.7, 3.2, 0.8, null],
      [1.8, 3.3, 0.85, 2.0],
    ]);
    expect(rounded(odoo.gain)).toEqual([
      [0, 0, 0, 0],
      [0.25, 0.05, null, null],
      [0.2, 0.25, null, null],
      [0.15, 0.2, 0.2, null],
      [0.1, 0.175, 0.15, 0.2],
    ]);
    // At the stable v3: shop .15 − .25, crm .2 − .25 → −.075; the experimental v4 does not count.
    expect(odoo.bwtVersion).toBe(3);
    expect(odoo.bwt).toBeCloseTo(-0.075, 12);

    const django = stats.adapters[0]!;
    expect(django).toMatchObject({ projects: [], versions: [{ version: 0, channel: 'base' }], nll: [[]], gain: [[]], bwt: null, bwtVersion: null });
    expect(django.runs.map((run) => [run.id, run.status])).toEqual([['run-d1', 'failed']]);
  });

  it('lists the latest runs newest first, as the contract shapes them', async () => {
    const { adapters } = await learningStats(database.db, { adapter: 'odoo', runs: 2 });
    expect(adapters.map((adapter) => adapter.adapter)).toEqual(['odoo']);
    const runs = adapters[0]!.runs;
    expect(runs.map((run) => run.id)).toEqual(['run-5', 'run-4']);
    expect(runs[0]).toEqual<LearningRunRecord>({
      id: 'run-5',
      adapter: 'odoo',
      project: hr,
      status: 'completed',
      startedAt: '2026-03-05T10:00:00.000Z',
      finishedAt: '2026-03-05T11:00:00.000Z',
      version: 4,
      promoted: false,
      reason: 'kept experimental: /work/crm worsened by 3%',
      lossCurve: [2.4, 2.1, 1.9],
      nllBefore: { [hr]: 2 },
      nllAfter: { [hr]: 1.7 },
      importanceStats: { mean: 0.01 },
      stats: { trainTexts: 40, replayTexts: 10, trainTokens: 12_000, tokensPerSecond: 110.5, durationMs: 108_600 },
      error: null,
    });
    expect(runs[1]).toMatchObject({ status: 'failed', version: null, promoted: null, error: { code: 'INTERNAL', message: 'The trainer stopped.' } });

    const all = await learningStats(database.db, { adapter: 'odoo' });
    expect(all.adapters[0]!.runs.map((run) => run.id)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
  });

  it('answers an empty list for an adapter it does not know', async () => {
    expect(await learningStats(database.db, { adapter: 'rails' })).toEqual({ adapters: [] });
  });
});
