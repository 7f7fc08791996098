/**
 * Adapters as a user meets them: real `npllm` processes (built by `npm run build:engine`) list,
 * promote and roll back versions, and `--query --json` reports the adapters that answered.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterChannelChange, AdapterRecord } from '../../../shared/contract.js';
import { lastJson, runNpllm } from '../test/cli.js';
import { Engine } from '../engine.js';
import { fixtureModelPath, tempHome, testConfig, testEnv, type TempHome } from '../test/support.js';
import { freshLora, writeLoraAdapter } from './gguf-writer.js';
import { readBaseModelShapes } from './gguf.js';

let home: TempHome;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = tempHome();
  env = testEnv(home.home);
  const shapes = await readBaseModelShapes(fixtureModelPath);
  const file = join(home.home, 'trained.gguf');
  await writeLoraAdapter(file, freshLora(shapes, { targets: /attn_(q|v)\.weight$/, rank: 8, alpha: 16 }));
  const engine = await Engine.open(testConfig(home.home));
  try {
    const base = await engine.model.identify();
    for (let version = 0; version < 2; version++) {
      await engine.adapters.register(file, { name: 'user-style', scope: 'user', baseModel: base.name, baseModelFingerprint: base.fingerprint });
    }
    await engine.adapters.promote('user-style', 1, 'first version');
  } finally {
    await engine.dispose();
  }
});
afterAll(() => home.cleanup());

describe('npllm adapters (real CLI processes)', () => {
  it('lists the registry as JSON and as a table', async () => {
    const listed = await runNpllm(['adapters', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const items = lastJson<AdapterRecord[]>(listed);
    expect(items.map((item) => [item.name, item.version, item.channel])).toEqual([
      ['user-style', 2, 'experimental'],
      ['user-style', 1, 'stable'],
    ]);
    expect(items[1]).toMatchObject({ scope: 'user', rank: 8, alpha: 16, path: 'adapters/user-style/v1.gguf', reason: 'first version' });
    const table = await runNpllm(['adapters', 'list'], env);
    expect(table.stdout).toMatch(/^name\s+version\s+channel\s+scope/);
    expect(table.stdout).toMatch(/user-style\s+v1\s+stable\s+user\s+8\s+16/);
  });

  it('--query --json reports the adapter that answered', async () => {
    const run = await runNpllm(['--query', 'Say hello in Python.', '--json', '--max-tokens', '8'], env);
    expect(run.code).toBe(0);
    expect(lastJson(run)).toMatchObject({ adapters: [{ name: 'user-style', version: '1', scale: 1 }] });
    const tried = await runNpllm(['--query', 'Say hello in Python.', '--json', '--max-tokens', '8', '--adapter-channel', 'experimental'], env);
    expect(lastJson(tried)).toMatchObject({ adapters: [{ name: 'user-style', version: '2', scale: 1 }] });
  });

  it('promotes and rolls back, and explains what cannot be done', async () => {
    const promoted = await runNpllm(['adapters', 'promote', 'user-style', '--json'], env);
    expect(promoted.code).toBe(0);
    const change = lastJson<AdapterChannelChange>(promoted);
    expect([change.stable.version, change.archived?.version]).toEqual([2, 1]);
    const rolled = await runNpllm(['adapters', 'rollback', 'user-style', '--reason', 'worse answers'], env);
    expect(rolled.code).toBe(0);
    expect(rolled.stderr).toMatch(/user-style: v1 is stable, v2 archived/);
    const missing = await runNpllm(['adapters', 'promote', 'no-such-adapter'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/Adapter no-such-adapter has no experimental version to promote\.\n\s+fix: /);
  });
});
