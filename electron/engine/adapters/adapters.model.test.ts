/**
 * Adapters on the real SmolLM2-135M: files written by gguf-writer.ts load in llama.cpp and do what
 * their weights say (B = 0 or scale 0 change nothing, a non-zero B changes the answer), and the
 * engine serves the stable version of matching adapters, reports them, keys the cache on them,
 * and answers without an adapter that is broken.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findInteraction } from '../data-collection/queries.js';
import { Engine } from '../engine.js';
import type { Logger } from '../base/log.js';
import { LocalModel, type ServedAdapter } from '../model/local-model.js';
import { fixtureModelPath, fixtureModelsDir, tempHome, testConfig, tinyModel, type TempHome } from '../test/support.js';
import { freshLora, writeLoraAdapter } from './gguf-writer.js';
import { readBaseModelShapes, type BaseModelShapes } from './gguf.js';

let files: TempHome;
let shapes: BaseModelShapes;
/** B = 0: the adapter adds nothing. */
let identityAdapter: string;
/** B = 0.5 on q, v and the FFN output of every layer: a large, visible change. */
let strongAdapter: string;
/** Valid GGUF, but for another architecture: only llama.cpp's own check would catch it. */
let foreignAdapter: string;

beforeAll(async () => {
  files = tempHome('npllm-lora-');
  shapes = await readBaseModelShapes(fixtureModelPath);
  identityAdapter = join(files.home, 'identity.gguf');
  strongAdapter = join(files.home, 'strong.gguf');
  foreignAdapter = join(files.home, 'foreign.gguf');
  await writeLoraAdapter(identityAdapter, freshLora(shapes, { targets: /attn_(q|v)\.weight$/, rank: 8, alpha: 16 }));
  await writeLoraAdapter(strongAdapter, freshLora(shapes, { targets: /(attn_q|attn_v|ffn_down)\.weight$/, rank: 8, alpha: 16, b: 0.5, seed: 7 }));
  await writeLoraAdapter(foreignAdapter, { ...freshLora(shapes, { targets: /attn_q\.weight$/, rank: 4, alpha: 4 }), architecture: 'qwen2' });
});
afterAll(() => files.cleanup());

const prompt = [{ role: 'user' as const, content: 'Write a Python function that reverses a string.' }];
const served = (name: string, path: string, scale = 1): ServedAdapter => ({ name, version: '1', scale, path });

describe('LoRA files from gguf-writer.ts in llama.cpp (real SmolLM2-135M)', () => {
  let model: LocalModel;
  const logged: string[] = [];
  beforeAll(() => {
    model = new LocalModel({
      source: fixtureModelPath,
      entry: tinyModel,
      cacheDir: fixtureModelsDir,
      pypiIndexUrl: 'https://pypi.org/simple/',
      threads: 1,
      contextSize: 1024,
      temperature: 0,
      systemPrompt: 'You are a concise coding assistant.',
      log: (level, message) => level === 'warn' && logged.push(message),
    });
  });
  afterAll(() => model.dispose());

  it('reads the base model shapes the adapters are checked against', () => {
    expect(shapes.architecture).toBe('llama');
    expect(shapes.tensors.get('blk.0.attn_q.weight')).toEqual([576, 576]);
    expect(shapes.tensors.get('blk.29.attn_v.weight')).toEqual([576, 192]);
    expect(shapes.tensors.get('blk.0.ffn_down.weight')).toEqual([1536, 576]);
  });

  it('B = 0 and scale 0 answer exactly as the base model; a non-zero B changes the answer', async () => {
    const answer = async (adapters: ServedAdapter[]) => model.generate({ messages: prompt, maxTokens: 16, adapters });
    const base = await answer([]);
    expect(base.adapters).toEqual([]);
    const identity = await answer([served('identity', identityAdapter)]);
    expect(identity.text).toBe(base.text);
    expect(identity.adapters).toEqual([{ name: 'identity', version: '1', scale: 1 }]);
    expect(model.adapters()).toEqual([{ name: 'identity', version: '1', scale: 1 }]);
    expect((await answer([served('strong', strongAdapter, 0)])).text).toBe(base.text);
    const strong = await answer([served('strong', strongAdapter)]);
    expect(strong.adapters).toEqual([{ name: 'strong', version: '1', scale: 1 }]);
    expect(strong.text).not.toBe(base.text);
    // Two adapters at once, and back to the base: the set is the request's, not sticky.
    expect((await answer([served('identity', identityAdapter), served('strong', strongAdapter)])).text).toBe(strong.text);
    expect((await answer([])).text).toBe(base.text);
  });

  it('answers without an adapter llama.cpp refuses, logs it, and never offers it again', async () => {
    const result = await model.generate({ messages: prompt, maxTokens: 8, adapters: [served('foreign', foreignAdapter), served('identity', identityAdapter)] });
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.adapters).toEqual([{ name: 'identity', version: '1', scale: 1 }]);
    expect(logged.join('\n')).toMatch(/adapter foreign v1 \(.*foreign\.gguf\) left out: llama.cpp refused it/);
    expect(model.refusedAdapters()).toEqual([expect.objectContaining({ name: 'foreign', version: '1', code: 'ADAPTER_INVALID' })]);
    const again = await model.generate({ messages: prompt, maxTokens: 4, adapters: [served('foreign', foreignAdapter)] });
    expect(again.adapters).toEqual([]);
    expect(logged.filter((line) => line.includes('foreign'))).toHaveLength(1);
  });
});

describe('the engine serves registered adapters (real model, real PGlite)', () => {
  let home: TempHome;
  let engine: Engine;
  let warnings: string[];
  beforeEach(async () => {
    home = tempHome();
    warnings = [];
    const logger: Logger = { log: (level, message) => void (level === 'warn' && warnings.push(message)) };
    engine = await Engine.open(testConfig(home.home, { model: { temperature: 0 } }), { logger });
  });
  afterEach(async () => {
    await engine.dispose();
    home.cleanup();
  });

  async function register(file: string, name = 'user-style') {
    const base = await engine.model.identify();
    return engine.adapters.register(file, { name, scope: 'user', baseModel: base.name, baseModelFingerprint: base.fingerprint });
  }

  it('answers with the stable version, reports it, records it, and keys the cache on it', async () => {
    const question = 'Write a Python function that reverses a string';
    const plain = await engine.ask({ question, maxTokens: 16 });
    expect(plain.adapters).toEqual([]);

    await register(strongAdapter);
    // Registered versions are experimental: stable answers do not change until one is promoted.
    expect((await engine.ask({ question, maxTokens: 16 })).cachedFrom).toBe(plain.interactionId);
    const tried = await engine.ask({ question, maxTokens: 16, adapterChannel: 'experimental' });
    expect(tried).toMatchObject({ cached: false, adapters: [{ name: 'user-style', version: '1', scale: 1 }] });
    expect(tried.answer).not.toBe(plain.answer);

    await engine.api.call('adapters/promote', { name: 'user-style' }, { caller: 'cli' });
    const served = await engine.ask({ question, maxTokens: 16 });
    expect(served).toMatchObject({ cached: true, cachedFrom: tried.interactionId, adapters: [{ name: 'user-style', version: '1', scale: 1 }] });
    expect((await findInteraction(engine.database.db, served.interactionId))?.adapters).toEqual([{ name: 'user-style', version: '1', scale: 1 }]);

    // A new stable version is a new cache key: never an answer of the old one.
    await register(identityAdapter);
    await engine.api.call('adapters/promote', { name: 'user-style' }, { caller: 'cli' });
    const next = await engine.ask({ question, maxTokens: 16 });
    expect(next).toMatchObject({ cached: false, adapters: [{ name: 'user-style', version: '2', scale: 1 }], answer: plain.answer });
    expect((await engine.api.call('system/health', {}, { caller: 'cli' })).adapters?.applied).toEqual([{ name: 'user-style', version: '2', scale: 1 }]);

    // Rolled back to v1: v1's answer is valid again, and a fresh one uses v1.
    await engine.api.call('adapters/rollback', { name: 'user-style', reason: 'testing rollback' }, { caller: 'cli' });
    expect(await engine.ask({ question, maxTokens: 16 })).toMatchObject({
      cachedFrom: tried.interactionId,
      adapters: [{ name: 'user-style', version: '1', scale: 1 }],
    });
    expect(await engine.ask({ question, maxTokens: 16, noCache: true })).toMatchObject({
      answer: tried.answer,
      adapters: [{ name: 'user-style', version: '1', scale: 1 }],
    });
  });

  it('answers without a stable adapter whose file is damaged, and says so in the log and in health', async () => {
    const record = await register(strongAdapter);
    await engine.api.call('adapters/promote', { name: 'user-style' }, { caller: 'cli' });
    writeFileSync(engine.adapters.fileOf(record), Buffer.alloc(4096, 1));
    const answer = await engine.ask({ question: 'What is a Python list?', maxTokens: 8 });
    expect(answer.answer.length).toBeGreaterThan(0);
    expect(answer.adapters).toEqual([]);
    expect(warnings.join('\n')).toMatch(/adapter user-style v1 left out of answers: The adapter .*v1\.gguf is not a readable GGUF file/);
    const health = await engine.api.call('system/health', {}, { caller: 'cli' });
    expect(health.status).toBe('ok');
    expect(health.adapters?.skipped).toEqual([expect.objectContaining({ name: 'user-style', version: '1', code: 'ADAPTER_INVALID' })]);
  });
});
