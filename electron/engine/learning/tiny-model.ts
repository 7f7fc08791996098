/**
 * Test support: a tiny llama GGUF with F32 weights (seeded, so every run writes the same bytes)
 * and seeded LoRA adapters for it with non-zero A and B. F32 matters: over a quantized base the
 * CPU forward quantizes activations (Q8 for Q4_1 weights), so the loss is piecewise constant in
 * the adapter and finite differences mean nothing; with F32 weights every matmul stays in F32.
 *
 * llama.cpp needs a real tokenizer, so the `tokenizer.*` metadata is copied from another GGUF
 * (the SmolLM2 fixture): its 49152-token vocabulary makes `token_embd` 49152 × n_embd (12.6 MB at
 * n_embd 64), which is the bulk of the file. The output projection is tied to `token_embd`, as in
 * SmolLM2. With `architecture: 'qwen2'` the same model is written as a qwen2 (llama.cpp then uses
 * NEOX RoPE and adds a bias to q, k and v, as in the Qwen2.5 bases), biases included.
 */
import { open, writeFile } from 'node:fs/promises';
import { seededRandom } from '../../../shared/random.js';
import { readF32Tensor, readGgufHeader, type GgufValue } from '../adapters/gguf.js';
import { encodeGguf, freshLora, writeLoraAdapter, type GgufWritableValue, type LoraAdapterSpec, type LoraTensor } from '../adapters/gguf-writer.js';

export interface TinyLlamaOptions {
  /** A GGUF whose `tokenizer.*` metadata is copied (a llama.cpp vocabulary). */
  tokenizerFrom: string;
  architecture?: 'llama' | 'qwen2';
  seed?: number;
  layers?: number;
  embd?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  contextLength?: number;
}

export interface TinyLlama {
  path: string;
  architecture: 'llama' | 'qwen2';
  vocab: number;
  layers: number;
  /** Weight shapes (ggml order) by tensor name, as `readBaseModelShapes` would report them. */
  tensors: Map<string, number[]>;
}

/** Writes the tiny model to `path`; about 14 MB with SmolLM2's vocabulary, under a second. */
export async function writeTinyLlama(path: string, options: TinyLlamaOptions): Promise<TinyLlama> {
  const { layers = 2, embd = 64, heads = 4, kvHeads = 2, ffn = 128, contextLength = 256, architecture = 'llama' } = options;
  if (embd % heads !== 0 || heads % kvHeads !== 0) throw new RangeError(`n_embd ${embd}, ${heads} heads and ${kvHeads} KV heads do not divide`);
  const source = await readGgufHeader(options.tokenizerFrom, { maxArrayItems: Number.POSITIVE_INFINITY });
  const tokenizer = [...source.metadata]
    .filter(([key]) => key.startsWith('tokenizer.'))
    .map(([key, value]): [string, GgufWritableValue] => [key, writable(value)]);
  const tokens = source.metadata.get('tokenizer.ggml.tokens');
  if (tokens?.type !== 'array' || tokens.length === 0) throw new RangeError(`${options.tokenizerFrom} has no tokenizer.ggml.tokens`);
  const vocab = tokens.length;
  const kvWidth = (embd / heads) * kvHeads;

  const random = seededRandom(options.seed ?? 7);
  const uniform = (count: number, bound: number) => new Float32Array(count).map(() => (random() * 2 - 1) * bound);
  const tensors: LoraTensor[] = [];
  const add = (name: string, dims: number[], data: Float32Array) => tensors.push({ name, dims, data });
  const matrix = (name: string, input: number, output: number) => add(name, [input, output], uniform(input * output, 1 / Math.sqrt(input)));
  // RMS-norm gains near 1, not exactly 1, so no two channels are interchangeable.
  const norm = (name: string) =>
    add(
      name,
      [embd],
      new Float32Array(embd).map(() => 1 + (random() * 2 - 1) * 0.2),
    );

  // Embedding entries of ±0.4 (std 0.23): after the final RMS norm the tied output gives logits of
  // std ≈ √64 · 0.23 ≈ 2, so the softmax and the squared logit norm are neither flat nor saturated.
  add('token_embd.weight', [embd, vocab], uniform(embd * vocab, 0.4));
  norm('output_norm.weight');
  for (let layer = 0; layer < layers; layer++) {
    const blk = `blk.${layer}`;
    norm(`${blk}.attn_norm.weight`);
    matrix(`${blk}.attn_q.weight`, embd, embd);
    matrix(`${blk}.attn_k.weight`, embd, kvWidth);
    matrix(`${blk}.attn_v.weight`, embd, kvWidth);
    if (architecture === 'qwen2') {
      for (const [name, width] of [
        ['attn_q', embd],
        ['attn_k', kvWidth],
        ['attn_v', kvWidth],
      ] as const)
        add(`${blk}.${name}.bias`, [width], uniform(width, 0.1));
    }
    matrix(`${blk}.attn_output.weight`, embd, embd);
    norm(`${blk}.ffn_norm.weight`);
    matrix(`${blk}.ffn_gate.weight`, embd, ffn);
    matrix(`${blk}.ffn_up.weight`, embd, ffn);
    matrix(`${blk}.ffn_down.weight`, ffn, embd);
  }
  const u32 = (value: number): GgufWritableValue => ({ type: 'u32', value });
  const arch = architecture;
  const metadata: [string, GgufWritableValue][] = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.type', { type: 'string', value: 'model' }],
    ['general.name', { type: 'string', value: `npllm tiny ${arch} ${layers}x${embd}` }],
    ['general.file_type', u32(0)], // all F32
    [`${arch}.block_count`, u32(layers)],
    [`${arch}.context_length`, u32(contextLength)],
    [`${arch}.embedding_length`, u32(embd)],
    [`${arch}.feed_forward_length`, u32(ffn)],
    [`${arch}.attention.head_count`, u32(heads)],
    [`${arch}.attention.head_count_kv`, u32(kvHeads)],
    [`${arch}.rope.freq_base`, { type: 'f32', value: 10000 }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: 1e-5 }],
    [`${arch}.rope.dimension_count`, u32(embd / heads)],
    [`${arch}.vocab_size`, u32(vocab)],
    ...tokenizer,
  ];
  await writeFile(path, encodeGguf(metadata, tensors));
  return {
    path,
    architecture,
    vocab,
    layers,
    tensors: new Map(tensors.filter((tensor) => tensor.dims.length === 2).map((tensor) => [tensor.name, tensor.dims])),
  };
}

export interface TinyLoraOptions {
  targets: RegExp;
  rank: number;
  alpha: number;
  seed: number;
  /** B uniform in ±bScale (A as PEFT initialises it, uniform in ±1/√in). */
  bScale: number;
}

/**
 * A LoRA for the tiny model with random A **and** B: a fresh adapter's B is 0, which makes every
 * gradient of A zero and the adapter a no-op, so a gradient check on it would check little.
 */
export async function writeTinyLora(path: string, model: TinyLlama, options: TinyLoraOptions): Promise<LoraAdapterSpec> {
  const spec = freshLora(
    { path: model.path, architecture: model.architecture, tensors: model.tensors },
    { targets: options.targets, rank: options.rank, alpha: options.alpha, seed: options.seed },
  );
  const random = seededRandom(options.seed ^ 0x5bd1e995);
  for (const tensor of spec.tensors)
    if (tensor.name.endsWith('.lora_b')) tensor.data.forEach((_, index, data) => (data[index] = (random() * 2 - 1) * options.bScale));
  await writeLoraAdapter(path, spec);
  return spec;
}

/** One F32 tensor of a GGUF file (an adapter, an importance file), read from its data section. */
export async function readNamedF32Tensor(path: string, name: string): Promise<Float32Array> {
  const header = await readGgufHeader(path, { maxArrayItems: 0 });
  const info = header.tensors.find((tensor) => tensor.name === name);
  if (!info) throw new RangeError(`${path} has no tensor ${name}`);
  const handle = await open(path, 'r');
  try {
    return await readF32Tensor(handle, info);
  } finally {
    await handle.close();
  }
}

function writable(value: GgufValue): GgufWritableValue {
  if (value.type !== 'array') return value as GgufWritableValue;
  if (value.itemType === 'array' || value.values.length !== value.length) throw new RangeError('a nested or truncated metadata array cannot be copied');
  return { type: 'array', itemType: value.itemType, values: value.values };
}
