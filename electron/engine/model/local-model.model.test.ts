import { copyFileSync, openSync, closeSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelPath, fixtureModelsDir, rejection, tempHome, tinyModel, type TempHome } from '../test/support.js';
import { fingerprintFile, inspectGguf } from './gguf.js';
import { LocalModel, type LocalModelOptions } from './local-model.js';

const options: LocalModelOptions = {
  source: fixtureModelPath,
  entry: tinyModel,
  cacheDir: fixtureModelsDir,
  pypiIndexUrl: 'https://pypi.org/simple/',
  threads: 1,
  contextSize: 1024,
  temperature: 0.2,
  systemPrompt: 'You are a concise coding assistant.',
};

let home: TempHome;
let model: LocalModel;
beforeAll(() => {
  home = tempHome();
  model = new LocalModel(options);
});
afterAll(async () => {
  await model.dispose();
  home.cleanup();
});

describe('LocalModel (real SmolLM2-135M)', () => {
  it('identifies the model without loading it', async () => {
    const identity = await model.identify();
    expect(identity.architecture).toBe('llama');
    expect(identity.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(model.isLoaded).toBe(false);
  });

  it('loads lazily with progress and streams tokens that add up to the answer', async () => {
    const progress: number[] = [];
    const chunks: string[] = [];
    const result = await model.generate({
      messages: [{ role: 'user', content: 'Write a Python function that reverses a string.' }],
      maxTokens: 40,
      onToken: (text) => chunks.push(text),
      onProgress: (p) => progress.push(p.fraction ?? -1),
    });
    expect(model.isLoaded).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.join('')).toBe(result.text);
    expect(result.tokens).toBeGreaterThan(3);
    expect(result.tokens).toBeLessThanOrEqual(40);
    expect(result.promptTokens).toBeGreaterThan(10);
    expect(result.ttftMs).toBeGreaterThan(0);
    expect(result.totalMs).toBeGreaterThanOrEqual(result.ttftMs);
    expect(result.loadMs).toBeGreaterThan(0);
  });

  it('reads the weights into memory by default (model.mmap false) and maps the file only when asked', async () => {
    // The default model was loaded by the test above; the GGUF must not be among this process's mappings.
    const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes(fixtureModelPath);
    expect(model.isLoaded).toBe(true);
    expect(mapped()).toBe(false);
    const mapping = new LocalModel({ ...options, mmap: true });
    try {
      await mapping.generate({ messages: [{ role: 'user', content: 'Say hi.' }], maxTokens: 2 });
      expect(mapped()).toBe(true);
    } finally {
      await mapping.dispose();
    }
  });

  it('stops at maxTokens and says so', async () => {
    const result = await model.generate({ messages: [{ role: 'user', content: 'Explain Python decorators in detail with examples.' }], maxTokens: 8 });
    expect(result.tokens).toBe(8);
    expect(result.finishReason).toBe('length');
    expect(result.loadMs).toBe(0);
  });

  it('uses earlier turns of the conversation', async () => {
    const result = await model.generate({
      messages: [
        { role: 'user', content: 'My name is Ana.' },
        { role: 'assistant', content: 'Nice to meet you, Ana.' },
        { role: 'user', content: 'What is my name?' },
      ],
      maxTokens: 16,
    });
    expect(result.promptTokens).toBeGreaterThan(20);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it('evaluates the system prompt once: the next question reuses it from the KV cache', async () => {
    const first = await model.generate({ messages: [{ role: 'user', content: 'What is a Python list?' }], maxTokens: 4 });
    const second = await model.generate({ messages: [{ role: 'user', content: 'How do I sort a dict by value?' }], maxTokens: 4 });
    // The first question after the conversation test shares only the system prompt with what the sequence holds.
    expect(first.evaluatedPromptTokens).toBeLessThan(first.promptTokens);
    expect(second.evaluatedPromptTokens).toBeGreaterThan(0);
    expect(second.promptTokens - second.evaluatedPromptTokens).toBeGreaterThanOrEqual(8);
  });

  it('cancels mid-generation with CANCELLED and serves the next request normally', async () => {
    const controller = new AbortController();
    let seen = 0;
    const error = await rejection(
      model.generate({
        messages: [{ role: 'user', content: 'Write a long essay about compilers.' }],
        maxTokens: 400,
        signal: controller.signal,
        onToken: () => {
          if (++seen === 5) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('CANCELLED');
    expect(seen).toBeLessThan(50);
    const after = await model.generate({ messages: [{ role: 'user', content: 'Say hi.' }], maxTokens: 5 });
    expect(after.tokens).toBeGreaterThan(0);
  });

  it('runs concurrent requests one after another, in order', async () => {
    const order: string[] = [];
    const ask = (label: string) =>
      model.generate({ messages: [{ role: 'user', content: `Count to three (${label}).` }], maxTokens: 6, onToken: () => order.push(label) });
    await Promise.all([ask('a'), ask('b')]);
    expect(order.indexOf('b')).toBeGreaterThan(order.lastIndexOf('a'));
  });

  it('stops a looping answer early and says why', async () => {
    const greedy = new LocalModel({ ...options, temperature: 0 });
    try {
      const result = await greedy.generate({
        messages: [{ role: 'user', content: 'List the numbers 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 and continue the pattern' }],
        maxTokens: 300,
      });
      expect(result.finishReason).toBe('repetition');
      expect(result.tokens).toBeLessThan(150);
    } finally {
      await greedy.dispose();
    }
  });

  it('rejects a conversation that does not end with the user', async () => {
    expect((await rejection(model.generate({ messages: [{ role: 'assistant', content: 'hi' }], maxTokens: 4 }))).code).toBe('REQUEST_INVALID');
  });
});

describe('bad model files', () => {
  it('names a missing file and how to fix it', async () => {
    const missing = new LocalModel({ ...options, source: join(home.home, 'nope.gguf') });
    const error = await rejection(missing.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4 }));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain('nope.gguf');
    expect(error.fix).toContain('--model');
    await missing.dispose();
  });

  it('rejects a file that is not GGUF', async () => {
    const path = join(home.home, 'notes.gguf');
    writeFileSync(path, 'these are my notes, not a model');
    const error = await rejection(inspectGguf(path));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('not a GGUF');
  });

  it('rejects a truncated GGUF before llama.cpp sees it', async () => {
    const path = join(home.home, 'half.gguf');
    copyFileSync(fixtureModelPath, path);
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, 30_000_000);
    closeSync(fd);
    const broken = new LocalModel({ ...options, source: path });
    const error = await rejection(broken.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4 }));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('truncated');
    await broken.dispose();
  });

  it('fingerprints by content, not by name', async () => {
    const copy = join(home.home, 'renamed.gguf');
    copyFileSync(fixtureModelPath, copy);
    expect(await fingerprintFile(copy)).toBe(await fingerprintFile(fixtureModelPath));
  });
});
