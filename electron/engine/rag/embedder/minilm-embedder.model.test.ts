/**
 * The real all-MiniLM-L6-v2 int8 model from the shared cache (.cache/models, `npm run
 * fetch-models`). Reference values come from the Rust `tokenizers` package, Python onnxruntime
 * and sentence-transformers' pooling in numpy, run on the same model file.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelsDir, rejection, tempHome, type TempHome } from '../../test/support.js';
import { createEmbedder } from './index.js';
import { MiniLmEmbedder } from './minilm-embedder.js';
import { ensureMiniLm, miniLm } from './minilm-files.js';

const pypiIndexUrl = process.env['NPLLM_PYPI_INDEX_URL'] ?? 'https://pypi.org/simple/';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);
const norm = (vector: Float32Array) => Math.sqrt(cosine(vector, vector));
const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((max, value, index) => Math.max(max, Math.abs(value - b[index]!)), 0);

const manyLines = Array.from({ length: 400 }, (_, index) => `const value${index} = compute(${index});`).join('\n');

/** First eight components of the reference vectors, and the reference token count. */
const references: { text: string; head: number[]; tokens: number }[] = [
  { text: 'how to reverse a string in python', head: [0.042006, 0.112139, 0.053771, 0.009589, -0.113698, -0.06397, 0.029905, 0.006364], tokens: 9 },
  { text: 'def reverse(s): return s[::-1]', head: [-0.069994, 0.068884, 0.010695, 0.005607, -0.017566, -0.034509, 0.030875, -0.039272], tokens: 16 },
  { text: '', head: [-0.127353, 0.040874, -0.001428, -0.015986, 0.053876, 0.008883, 0.117883, 0.004815], tokens: 2 },
  {
    text: 'Crème brûlée — naïve café, ÉCOLE; 日本語のテキスト 🙂 emoji\ttab\u0000nul',
    head: [0.028143, -0.029176, 0.088653, -0.056328, -0.030457, -0.047034, 0.087519, -0.002108],
    tokens: 28,
  },
  {
    text: "export async function sha256File(path: string): Promise<string> {\n  const hash = createHash('sha256');\n  await pipeline(createReadStream(path), hash);\n  return hash.digest('hex');\n}",
    head: [0.008533, 0.013287, -0.077192, -0.032717, 0.007599, -0.002411, -0.051953, -0.003346],
    tokens: 64,
  },
  // Longer than 256 tokens: cut after the first 255, then [SEP], as the Rust tokenizer truncates.
  { text: manyLines, head: [-0.050518, 0.040212, -0.072989, -0.066604, -0.096705, -0.098007, -0.010928, -0.03419], tokens: 256 },
  { text: 'x=1;'.repeat(2000), head: [-0.019362, 0.044232, -0.057814, -0.070669, 0.003801, -0.1349, 0.074191, -0.099559], tokens: 256 },
  { text: 'word '.repeat(300), head: [-0.004822, -0.098322, -0.03899, 0.051114, -0.042675, 0.021928, -0.017121, -0.021084], tokens: 256 },
];

let modelDir: string;
let embedder: MiniLmEmbedder;
let home: TempHome;

beforeAll(async () => {
  modelDir = await ensureMiniLm({ cacheDir: fixtureModelsDir, pypiIndexUrl });
  embedder = new MiniLmEmbedder({ modelDir });
  home = tempHome('npllm-embedder-');
});

afterAll(async () => {
  await embedder.dispose();
  home.cleanup();
});

describe('MiniLmEmbedder', () => {
  it('names its model and gives unit-length vectors of 384 dimensions', async () => {
    expect(embedder.id).toBe('all-MiniLM-L6-v2-int8');
    expect(embedder.dimensions).toBe(384);
    const vectors = await embedder.embed(['a function that parses JSON', 'class UserRepository {}']);
    expect(vectors).toHaveLength(2);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(384);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
  });

  it('matches sentence-transformers computed another way, including truncation to 256 tokens', async () => {
    const vectors = await embedder.embed(references.map((reference) => reference.text));
    references.forEach((reference, index) => {
      const head = Array.from(vectors[index]!.subarray(0, 8));
      head.forEach((value, component) =>
        expect(value, `${JSON.stringify(reference.text.slice(0, 30))}[${component}]`).toBeCloseTo(reference.head[component]!, 5),
      );
    });
  });

  it('is deterministic, and batching, sorting and batch size do not change a vector', async () => {
    const texts = [
      manyLines,
      'short',
      'def add(a, b):\n    return a + b',
      'SELECT id FROM users',
      'x'.repeat(40),
      'short',
      'interface Point { x: number; y: number }',
    ];
    const batched = new MiniLmEmbedder({ modelDir, batchSize: 3 });
    try {
      const first = await batched.embed(texts);
      expect(await batched.embed(texts)).toEqual(first);
      const singles = await Promise.all(texts.map(async (text) => (await embedder.embed([text]))[0]!));
      first.forEach((vector, index) => expect(maxDifference(vector, singles[index]!), texts[index]).toBeLessThan(1e-5));
      expect(first[5]).toEqual(first[1]);
    } finally {
      await batched.dispose();
    }
  });

  it('gives the same vectors with two threads', async () => {
    const twoThreads = new MiniLmEmbedder({ modelDir, threads: 2 });
    try {
      const [one] = await embedder.embed(['async function main() { await run(); }']);
      const [two] = await twoThreads.embed(['async function main() { await run(); }']);
      expect(maxDifference(one!, two!)).toBeLessThan(1e-5);
    } finally {
      await twoThreads.dispose();
    }
  });

  it('puts a question nearer the code that answers it than unrelated code', async () => {
    const [question, answer, unrelated] = await embedder.embed([
      'how to reverse a string in python',
      'def reverse(s): return s[::-1]',
      'SELECT * FROM orders WHERE total > 100',
    ]);
    expect(cosine(question!, answer!)).toBeGreaterThan(cosine(question!, unrelated!));
  });

  it('embeds huge and empty inputs without error', async () => {
    const [huge, empty] = await embedder.embed(['lorem ipsum '.repeat(100_000), '']);
    expect(norm(huge!)).toBeCloseTo(1, 5);
    expect(norm(empty!)).toBeCloseTo(1, 5);
    expect(await embedder.embed([])).toEqual([]);
  });

  it('stops between batches when cancelled', async () => {
    const texts = Array.from({ length: 32 }, (_, index) => `function step${index}() { return ${index}; }`);
    const before = new AbortController();
    before.abort();
    expect((await rejection(embedder.embed(texts, before.signal))).code).toBe('CANCELLED');

    const during = new AbortController();
    const embedding = embedder.embed(texts, during.signal);
    setImmediate(() => during.abort());
    expect((await rejection(embedding)).code).toBe('CANCELLED');
  });

  it('can be disposed while embedding, and loads again when used afterwards', async () => {
    const own = new MiniLmEmbedder({ modelDir, batchSize: 2 });
    await own.embed(['warm up']);
    const embedding = own.embed(Array.from({ length: 16 }, (_, index) => `line ${index}`));
    await own.dispose();
    expect((await rejection(embedding)).code).toBe('CANCELLED');
    expect(await own.embed(['again'])).toHaveLength(1);
    await own.dispose();
  });

  it('names the damaged or missing file and the fix', async () => {
    const damaged = join(home.home, 'damaged');
    mkdirSync(damaged);
    for (const name of Object.keys(miniLm.files)) copyFileSync(join(modelDir, name), join(damaged, name));
    writeFileSync(join(damaged, 'model.onnx'), 'not an onnx model');
    const corrupt = await rejection(new MiniLmEmbedder({ modelDir: damaged }).embed(['x']));
    expect(corrupt.code).toBe('MODEL_INVALID');
    expect(corrupt.message).toContain(join(damaged, 'model.onnx'));
    expect(corrupt.fix).toContain(`Delete ${damaged}`);

    const withoutTokenizer = join(home.home, 'without-tokenizer');
    mkdirSync(withoutTokenizer);
    copyFileSync(join(modelDir, 'model.onnx'), join(withoutTokenizer, 'model.onnx'));
    const absent = await rejection(new MiniLmEmbedder({ modelDir: withoutTokenizer }).embed(['x']));
    expect(absent.code).toBe('MODEL_NOT_FOUND');
    expect(absent.message).toMatch(/without-tokenizer\/(tokenizer\.json|tokenizer_config\.json|sentence_bert_config\.json|pooling_config\.json) is missing/);
  });

  it('refuses settings that are not whole numbers of at least 1', () => {
    expect(() => new MiniLmEmbedder({ modelDir, threads: 0 })).toThrow(/threads must be a whole number/);
    expect(() => new MiniLmEmbedder({ modelDir, batchSize: 1.5 })).toThrow(/batchSize must be a whole number/);
  });
});

describe('createEmbedder', () => {
  it('gives the MiniLM embedder from the models cache', async () => {
    const created = await createEmbedder({ model: 'all-MiniLM-L6-v2-int8', threads: 1, batchSize: 4 }, { cacheDir: fixtureModelsDir, pypiIndexUrl });
    try {
      expect(created.id).toBe(embedder.id);
      const [vector] = await created.embed(['how to reverse a string in python']);
      expect(Array.from(vector!.subarray(0, 2))).toEqual([expect.closeTo(0.042006, 5), expect.closeTo(0.112139, 5)]);
    } finally {
      await created.dispose();
    }
  });
});
