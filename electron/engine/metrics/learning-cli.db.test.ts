/**
 * `npllm stats --learning` as users run it: a real `npllm` process (built by `npm run
 * build:engine`) over a database holding `seedLearningHistory`; it never loads the model.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearningStats } from '../../../shared/contract.js';
import { lastJson, runNpllm } from '../test/cli.js';
import { openDatabase } from '../db/client.js';
import { tempHome, testEnv, type TempHome } from '../test/support.js';
import { seedLearningHistory } from '../test/learning-history.js';

let home: TempHome;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = tempHome('npllm-learning-cli-');
  // No model in reach: the command must not need one.
  env = testEnv(home.home, { NPLLM_MODELS_DIR: join(home.home, 'no-models') });
  const database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  try {
    await seedLearningHistory(database.db);
  } finally {
    await database.close();
  }
});
afterAll(() => home.cleanup());

describe('npllm stats --learning (real CLI process)', () => {
  it('prints LearningStats as its last JSON line', async () => {
    const run = await runNpllm(['stats', '--learning', '--adapter', 'odoo', '--runs', '2', '--json'], env);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/model/i);
    const stats = lastJson<LearningStats>(run);
    expect(stats.adapters.map((adapter) => adapter.adapter)).toEqual(['odoo']);
    expect(stats.adapters[0]).toMatchObject({ projects: ['/work/shop', '/work/crm', '/work/pos', '/work/hr'], bwtVersion: 3 });
    expect(stats.adapters[0]!.bwt).toBeCloseTo(-0.075, 12);
    expect(stats.adapters[0]!.runs.map((item) => item.id)).toEqual(['run-5', 'run-4']);
  });

  it('prints the matrix, gain, BWT and runs as tables', async () => {
    const run = await runNpllm(['stats', '--learning'], env);
    expect(run.code).toBe(0);
    const text = run.stdout;
    expect(text).toMatch(/^django\n/);
    expect(text).toContain('\nodoo\nprojects: shop = /work/shop · crm = /work/crm · pos = /work/pos · hr = /work/hr\n');
    expect(text).toMatch(/version\s+channel\s+learned\s+shop\s+crm\s+pos\s+hr\n/);
    expect(text).toMatch(/\nv0\s+base\s+2\.000\s+4\.000\s+1\.000\s+2\.500\n/);
    expect(text).toMatch(/\nv2\s+archived\s+crm\s+1\.600\s+3\.000\s+–\s+–\n/);
    expect(text).toMatch(/\nv4\s+experimental\s+hr\s+\+10\.0%\s+\+17\.5%\s+\+15\.0%\s+\+20\.0%\n/);
    expect(text).toContain('BWT: -7.5% at v3');
    expect(text).toMatch(/2026-03-05 10:00\s+completed\s+hr\s+v4\s+no\s+1 min 49 s\s+110\.5\s+kept experimental: \/work\/crm worsened by 3%/);
    expect(text).toMatch(/2026-03-04 10:00\s+failed\s+hr\s+–\s+–\s+1 h 00 min\s+–\s+The trainer stopped\./);
  });

  it('refuses an invalid adapter name with a fix', async () => {
    const run = await runNpllm(['stats', '--learning', '--adapter', '../etc', '--json'], env);
    expect(run.code).toBe(2);
    expect(lastJson(run)).toMatchObject({ error: { code: 'REQUEST_INVALID' } });
  });
});
