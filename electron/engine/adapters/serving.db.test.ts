/**
 * Which adapters answer, on a real PGlite with a miniature llama-shaped base GGUF: scope against
 * the project's confirmed stacks, channel choice, limits, and broken or foreign adapters left out
 * (logged once, listed for health) instead of failing the question.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contextVector } from '../../../shared/context-vector.js';
import { insertProfile } from '../context/queries.js';
import { openDatabase, type Database } from '../db/client.js';
import type { ModelIdentity } from '../model/local-model.js';
import { tempHome, type TempHome } from '../test/support.js';
import { encodeGguf, freshLora, writeLoraAdapter } from './gguf-writer.js';
import { readBaseModelShapes } from './gguf.js';
import { ContextService } from '../context/service.js';
import { AdapterServing } from './serving.js';
import { AdapterStore } from './store.js';

let home: TempHome;
let database: Database;
let store: AdapterStore;
let identity: ModelIdentity;
let trained: string;
let warnings: string[];
let serving: AdapterServing;

function newServing(options: { maxActive?: number } = {}): AdapterServing {
  return new AdapterServing(database.db, new ContextService(database.db), {
    home: home.home,
    defaultScale: 0.5,
    maxActive: options.maxActive ?? 4,
    log: (level, message) => level === 'warn' && warnings.push(message),
  });
}

beforeAll(async () => {
  home = tempHome('npllm-serving-');
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  store = new AdapterStore(database.db, home.home);
  const basePath = join(home.home, 'tiny-llama.gguf');
  writeFileSync(
    basePath,
    Buffer.concat(
      encodeGguf(
        [
          ['general.architecture', { type: 'string', value: 'llama' }],
          ['general.type', { type: 'string', value: 'model' }],
        ],
        [
          { name: 'blk.0.attn_q.weight', dims: [16, 16], data: new Float32Array(256) },
          { name: 'blk.0.attn_v.weight', dims: [16, 8], data: new Float32Array(128) },
        ],
      ),
    ),
  );
  identity = { name: 'tiny-llama', path: basePath, fingerprint: 'feedfacefeedface', architecture: 'llama' };
  trained = join(home.home, 'trained.gguf');
  await writeLoraAdapter(trained, freshLora(await readBaseModelShapes(basePath), { targets: /attn_(q|v)/, rank: 4, alpha: 8 }));
  await insertProfile(database.db, {
    root: '/work/erp',
    stacks: [stack('odoo'), stack('python')],
    proposal: [],
    edited: false,
    contextVector: Array.from(contextVector([stack('odoo'), stack('python')])),
  });
});
afterAll(async () => {
  await database.close();
  home.cleanup();
});
beforeEach(async () => {
  warnings = [];
  serving = newServing();
  // Each test starts from an empty registry.
  await database.db.execute('delete from adapters');
});

function stack(name: string) {
  return { name, version: null, confidence: 1, evidence: [] };
}

async function stableAdapter(name: string, scope: string, options: { fingerprint?: string; versions?: number } = {}) {
  for (let index = 0; index < (options.versions ?? 1); index++) {
    await store.register(trained, { name, scope, baseModel: 'tiny-llama', baseModelFingerprint: options.fingerprint ?? identity.fingerprint });
  }
  return (await store.promote(name, 1)).stable;
}

const names = (plan: { apply: { name: string; version: string }[] }) => plan.apply.map((adapter) => `${adapter.name}@${adapter.version}`);

describe('AdapterServing.plan', () => {
  it('applies nothing, and reads nothing, while no adapter is registered', async () => {
    expect(await serving.plan({ project: '/work/erp', channel: 'stable' }, identity)).toEqual({ apply: [], skipped: [] });
  });

  it("applies the user's adapter everywhere and a stack's adapter only in projects confirmed with that stack", async () => {
    await stableAdapter('user-style', 'user');
    await stableAdapter('odoo', 'odoo');
    await stableAdapter('django', 'django');
    const erp = await serving.plan({ project: '/work/erp', channel: 'stable' }, identity);
    expect(names(erp)).toEqual(['odoo@1', 'user-style@1']);
    expect(erp.apply[0]).toEqual({ name: 'odoo', version: '1', scale: 0.5, path: join(home.home, 'adapters', 'odoo', 'v1.gguf') });
    expect(names(await serving.plan({ project: null, channel: 'stable' }, identity))).toEqual(['user-style@1']);
    expect(names(await serving.plan({ project: '/work/unconfirmed', channel: 'stable' }, identity))).toEqual(['user-style@1']);
  });

  it('serves stable versions unless the request asks to try the experimental ones', async () => {
    await stableAdapter('odoo', 'odoo', { versions: 3 });
    await stableAdapter('user-style', 'user');
    expect(names(await serving.plan({ project: '/work/erp', channel: 'stable' }, identity))).toEqual(['odoo@1', 'user-style@1']);
    expect(names(await serving.plan({ project: '/work/erp', channel: 'experimental' }, identity))).toEqual(['odoo@3', 'user-style@1']);
  });

  it('leaves out adapters of another base model, and broken files, logging each once', async () => {
    await stableAdapter('odoo', 'odoo', { fingerprint: '0000000000000000' });
    const user = await stableAdapter('user-style', 'user');
    writeFileSync(store.fileOf(user), 'damaged on disk');
    for (let round = 0; round < 2; round++) {
      const plan = await serving.plan({ project: '/work/erp', channel: 'stable' }, identity);
      expect(plan.apply).toEqual([]);
      expect(plan.skipped.map((skipped) => [skipped.name, skipped.code])).toEqual([
        ['odoo', 'ADAPTER_MISMATCH'],
        ['user-style', 'ADAPTER_INVALID'],
      ]);
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/adapter odoo v1 left out of answers: .*trained on tiny-llama \(fingerprint 0000000000000000\)/);
    expect(warnings[1]).toMatch(/adapter user-style v1 left out of answers: The adapter .*v1\.gguf is not a readable GGUF file/);
    expect(serving.skipped().map((skipped) => skipped.name)).toEqual(['odoo', 'user-style']);
  });

  it('leaves a version out of a project it never learned where its consolidation measured it significantly worse than the base', async () => {
    await insertProfile(database.db, {
      root: '/work/shop',
      stacks: [stack('odoo')],
      proposal: [],
      edited: false,
      contextVector: Array.from(contextVector([stack('odoo')])),
    });
    const transfer = {
      '/work/shop': { before: 2, after: 2.5, change: 0.5, standardError: 0.02, groups: 8, tokens: 3000, significant: true },
      '/work/erp': { before: 2, after: 2.01, change: 0.01, standardError: 0.02, groups: 8, tokens: 3000, significant: false },
    };
    await store.register(trained, { name: 'odoo', scope: 'odoo', baseModel: 'tiny-llama', baseModelFingerprint: identity.fingerprint, metrics: { transfer } });
    await store.promote('odoo', 1);
    const shop = await serving.plan({ project: '/work/shop', channel: 'stable' }, identity);
    expect(shop.apply).toEqual([]);
    expect(shop.skipped).toEqual([
      {
        name: 'odoo',
        version: '1',
        code: 'TRANSFER',
        reason: 'measured worse than the base model on this project it has not learned: held-out NLL 2.000 → 2.500',
      },
    ]);
    // Within noise on erp: applied. A measurement, not a broken file: nothing logged, nothing in health.
    expect(names(await serving.plan({ project: '/work/erp', channel: 'stable' }, identity))).toEqual(['odoo@1']);
    expect(warnings).toEqual([]);
    expect(serving.skipped()).toEqual([]);
  });

  it('applies at most adapters.maxActive, stacks first; 0 serves the base model only', async () => {
    await stableAdapter('user-style', 'user');
    await stableAdapter('odoo', 'odoo');
    await stableAdapter('python', 'python');
    const limited = await newServing({ maxActive: 2 }).plan({ project: '/work/erp', channel: 'stable' }, identity);
    expect(names(limited)).toEqual(['odoo@1', 'python@1']);
    expect(limited.skipped).toEqual([expect.objectContaining({ name: 'user-style', code: 'LIMIT' })]);
    expect(await newServing({ maxActive: 0 }).plan({ project: '/work/erp', channel: 'stable' }, identity)).toEqual({ apply: [], skipped: [] });
  });
});

describe('AdapterServing.candidates (what the modulator chooses among)', () => {
  it("offers every servable version in the project's stack order, and leaves out one whose file disappeared, saying why, without failing", async () => {
    await stableAdapter('user-style', 'user');
    await stableAdapter('odoo', 'odoo');
    const gone = await stableAdapter('python-style', 'python');
    const before = await serving.candidates({ project: '/work/erp', channel: 'stable' }, identity);
    // Confirmed order (odoo, then python), then the user's own; the modulator gives each its scale.
    expect(before.candidates.map((candidate) => `${candidate.name}@${candidate.version}:${candidate.scope}`)).toEqual([
      'odoo@1:odoo',
      'python-style@1:python',
      'user-style@1:user',
    ]);
    expect(before.skipped).toEqual([]);

    rmSync(store.fileOf(gone));
    const after = await serving.candidates({ project: '/work/erp', channel: 'stable' }, identity);
    expect(after.candidates.map((candidate) => candidate.name)).toEqual(['odoo', 'user-style']);
    expect(after.skipped.map((skipped) => [skipped.name, skipped.code])).toEqual([['python-style', 'ADAPTER_NOT_FOUND']]);
    expect(warnings.join('\n')).toMatch(
      /adapter python-style v1 left out of answers: The adapter file .*v1\.gguf does not exist\. Fix: .*npllm adapters rollback NAME/,
    );
  });
});
