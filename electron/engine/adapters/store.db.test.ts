/**
 * The adapter registry on a real PGlite: versions, files, checksums, channel rules and
 * concurrency. Adapters are miniature LoRA files for a tiny llama-shaped base.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterRecord } from '../../../shared/contract.js';
import { openDatabase, type Database } from '../db/client.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import { freshLora, writeLoraAdapter } from './gguf-writer.js';
import { sha256File } from '../base/files.js';
import type { BaseModelShapes } from './gguf.js';
import { AdapterStore, type RegisterAdapter } from './store.js';

const base: BaseModelShapes = {
  path: '/models/tiny-llama.gguf',
  architecture: 'llama',
  tensors: new Map([
    ['blk.0.attn_q.weight', [16, 16]],
    ['blk.0.attn_v.weight', [16, 8]],
  ]),
};

let home: TempHome;
let database: Database;
let store: AdapterStore;
let trained: string;

const meta = (name: string, extra: Partial<RegisterAdapter> = {}): RegisterAdapter => ({
  name,
  scope: 'odoo',
  baseModel: 'tiny-llama',
  baseModelFingerprint: '0123456789abcdef',
  metrics: { nllBefore: 2.1, nllAfter: 1.7 },
  ...extra,
});

beforeAll(async () => {
  home = tempHome('npllm-adapters-');
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  store = new AdapterStore(database.db, home.home);
  trained = join(home.home, 'trained.gguf');
  await writeLoraAdapter(trained, freshLora(base, { targets: /attn_(q|v)/, rank: 4, alpha: 8 }));
});
afterAll(async () => {
  await database.close();
  home.cleanup();
});

let names = 0;
let name: string;
beforeEach(() => {
  name = `adapter-${++names}`;
});

async function registerVersions(count: number): Promise<AdapterRecord[]> {
  const records: AdapterRecord[] = [];
  for (let index = 0; index < count; index++) records.push(await store.register(trained, meta(name)));
  return records;
}

async function channels(): Promise<Record<number, string>> {
  return Object.fromEntries((await store.list(name)).map((record) => [record.version, record.channel]));
}

describe('AdapterStore.register', () => {
  it('copies the file in as the next experimental version, checksummed, with rank, alpha and targets from the file', async () => {
    const [first, second] = await registerVersions(2);
    expect(first).toMatchObject({
      name,
      version: 1,
      channel: 'experimental',
      scope: 'odoo',
      path: `adapters/${name}/v1.gguf`,
      rank: 4,
      alpha: 8,
      targets: ['blk.0.attn_q.weight', 'blk.0.attn_v.weight'],
      baseModelFingerprint: '0123456789abcdef',
      metrics: { nllBefore: 2.1, nllAfter: 1.7 },
      promotedAt: null,
    });
    expect(second!.version).toBe(2);
    expect(first!.sha256).toBe(await sha256File(trained));
    expect(await sha256File(store.fileOf(second!))).toBe(first!.sha256);
    expect(readdirSync(store.folder(name)).sort()).toEqual(['v1.gguf', 'v2.gguf']);
    expect(existsSync(trained)).toBe(true);
  });

  it('moves a trainer output when asked and keeps the importance path relative to the data folder', async () => {
    const output = join(home.home, 'run-output.gguf');
    await writeLoraAdapter(output, freshLora(base, { targets: ['blk.0.attn_q.weight'], rank: 2, alpha: 2 }));
    const record = await store.register(
      output,
      meta(name, { move: true, importancePath: join(home.home, 'adapters', name, 'omega-v1.bin'), trainingRunId: 'run-1', parentVersion: null }),
    );
    expect(existsSync(output)).toBe(false);
    expect(record).toMatchObject({ importancePath: `adapters/${name}/omega-v1.bin`, trainingRunId: 'run-1', rank: 2 });
  });

  it('allocates distinct versions to concurrent registrations', async () => {
    const records = await Promise.all(Array.from({ length: 6 }, () => store.register(trained, meta(name))));
    expect(records.map((record) => record.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readdirSync(store.folder(name)).sort()).toEqual(['v1.gguf', 'v2.gguf', 'v3.gguf', 'v4.gguf', 'v5.gguf', 'v6.gguf']);
  });

  it('refuses a broken file or one for another base, and keeps nothing of it', async () => {
    const broken = join(home.home, 'broken.gguf');
    writeFileSync(broken, 'not a gguf');
    expect((await rejection(store.register(broken, meta(name)))).code).toBe('ADAPTER_INVALID');
    const foreign = join(home.home, 'foreign.gguf');
    await writeLoraAdapter(foreign, { ...freshLora(base, { targets: /attn_q/, rank: 2, alpha: 2 }), architecture: 'qwen2' });
    expect((await rejection(store.register(foreign, meta(name, { base })))).code).toBe('ADAPTER_MISMATCH');
    expect(await store.list(name)).toEqual([]);
    expect(existsSync(store.folder(name)) ? readdirSync(store.folder(name)) : []).toEqual([]);
  });

  it('refuses names that are not safe folder names', async () => {
    for (const bad of ['../escape', '', '.hidden', 'a/b']) expect((await rejection(store.register(trained, meta(bad)))).code).toBe('REQUEST_INVALID');
  });
});

describe('promotion and rollback', () => {
  it('promotes the newest experimental version and archives the stable one it replaces', async () => {
    await registerVersions(3);
    const first = await store.promote(name, 1, 'first evaluation passed');
    expect(first.archived).toBeNull();
    expect(first.stable).toMatchObject({ version: 1, channel: 'stable', reason: 'first evaluation passed' });
    expect(first.stable.promotedAt).not.toBeNull();
    const latest = await store.promote(name);
    expect(latest.stable.version).toBe(3);
    expect(latest.archived).toMatchObject({ version: 1, channel: 'archived', reason: 'replaced by v3' });
    expect(await channels()).toEqual({ 1: 'archived', 2: 'experimental', 3: 'stable' });
    expect((await store.stable(name))?.version).toBe(3);
    expect((await store.promote(name, 3)).archived).toBeNull();
  });

  it('says when there is nothing to promote', async () => {
    expect((await rejection(store.promote(name))).code).toBe('ADAPTER_NOT_FOUND');
    await registerVersions(1);
    await store.promote(name);
    expect((await rejection(store.promote(name))).message).toMatch(/no experimental version to promote/);
    expect((await rejection(store.promote(name, 9))).message).toMatch(/has no version 9/);
  });

  it('never promotes a version whose file is gone or changed', async () => {
    const [record] = await registerVersions(1);
    writeFileSync(store.fileOf(record!), 'tampered');
    expect((await rejection(store.promote(name))).message).toMatch(/changed since it was registered|not a readable GGUF/);
    expect(await channels()).toEqual({ 1: 'experimental' });
  });

  it('rolls back to the previously promoted version, then further back, then says there is none', async () => {
    await registerVersions(4);
    for (const version of [1, 2, 3]) await store.promote(name, version);
    const back = await store.rollback(name, undefined, 'answers got worse');
    expect(back.stable.version).toBe(2);
    expect(back.archived).toMatchObject({ version: 3, channel: 'archived', reason: 'rolled back to v2: answers got worse', promotedAt: null });
    expect(back.stable.reason).toBe('restored by a rollback from v3');
    expect((await store.rollback(name)).stable.version).toBe(1);
    expect((await rejection(store.rollback(name))).message).toMatch(/no version promoted before v1/);
    expect(await channels()).toEqual({ 1: 'stable', 2: 'archived', 3: 'archived', 4: 'experimental' });

    // A later promotion starts a new history; the rolled-back versions are not returned to.
    await store.promote(name, 4);
    expect((await store.rollback(name)).stable.version).toBe(1);
  });

  it('rolls back to a named version, and refuses what cannot be rolled back', async () => {
    expect((await rejection(store.rollback(name))).message).toMatch(/no stable version to roll back/);
    await registerVersions(3);
    await store.promote(name, 3);
    expect((await rejection(store.rollback(name, 3))).code).toBe('CONFLICT');
    const change = await store.rollback(name, 1);
    expect(change.stable.version).toBe(1);
    expect(change.stable.promotedAt).not.toBeNull();
    expect(await channels()).toEqual({ 1: 'stable', 2: 'experimental', 3: 'archived' });
  });

  it('keeps at most one stable version under concurrent promotions and rollbacks', async () => {
    await registerVersions(5);
    await Promise.all([1, 2, 3, 4, 5].map((version) => store.promote(name, version)));
    expect(Object.values(await channels()).filter((channel) => channel === 'stable')).toHaveLength(1);
    await Promise.allSettled([store.rollback(name), store.rollback(name), store.promote(name, 2)]);
    expect(Object.values(await channels()).filter((channel) => channel === 'stable')).toHaveLength(1);
  });

  it('lists every version, by name then newest first', async () => {
    await registerVersions(2);
    const all = await store.list();
    const mine = all.filter((record) => record.name === name);
    expect(mine.map((record) => record.version)).toEqual([2, 1]);
    expect(new Set(all.map((record) => record.name)).size).toBeGreaterThan(1);
  });
});
