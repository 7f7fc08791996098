/**
 * all-MiniLM-L6-v2 (int8 weights) run by ONNX Runtime on the CPU exactly as sentence-transformers
 * runs it: the model's own WordPiece tokenizer (which lowercases), at most `max_seq_length` (256)
 * tokens, mean pooling over the real tokens, L2 normalisation. Everything loads on the first call.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tokenizers from '@huggingface/tokenizers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { cancelled, ModelError } from '../../../../shared/errors.js';
import type { Embedder } from '../types.js';
import { miniLm, type MiniLmFileName } from './minilm-files.js';
import { checkMiniLmOptions, miniLmDefaults, type MiniLmOptions } from './minilm-options.js';
import { batchesByLength, meanPoolNormalize } from './pooling.js';

/**
 * The part of @huggingface/tokenizers we use, typed here: its declarations import without file
 * extensions, which NodeNext cannot follow, so the package's own types resolve to nothing.
 */
interface Tokenizer {
  encode(text: string): { ids: number[] };
}
const { Tokenizer } = tokenizers as unknown as { Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => Tokenizer };

interface Loaded {
  session: InferenceSession;
  tokenizer: Tokenizer;
  maxTokens: number;
  /** BERT exports differ in whether they take segment ids; ours are all zero anyway. */
  takesTokenTypes: boolean;
  outputName: string;
}

export class MiniLmEmbedder implements Embedder {
  readonly id = miniLm.id;
  readonly dimensions = miniLm.dimensions;
  private readonly options: MiniLmOptions;
  private loading: Promise<Loaded> | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(options: Pick<MiniLmOptions, 'modelDir'> & Partial<MiniLmOptions>) {
    this.options = checkMiniLmOptions({ ...miniLmDefaults(), ...options });
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    throwIfCancelled(signal);
    if (texts.length === 0) return [];
    const loading = this.load();
    const loaded = await loading;
    const rows = texts.map((text) => encodeTruncated(loaded.tokenizer, text, loaded.maxTokens));
    const vectors = new Array<Float32Array>(texts.length);
    for (const batch of batchesByLength(
      rows.map((row) => row.length),
      this.options.batchSize,
    )) {
      throwIfCancelled(signal);
      if (this.loading !== loading) throw cancelled('The embedder was disposed while it was embedding.');
      const pooled = await this.run(
        loaded,
        batch.map((index) => rows[index]!),
      );
      batch.forEach((index, row) => (vectors[index] = pooled[row]!));
    }
    return vectors;
  }

  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    const loaded = await loading?.catch(() => undefined);
    await Promise.allSettled(this.running);
    await loaded?.session.release();
  }

  private load(): Promise<Loaded> {
    if (this.loading) return this.loading;
    // A failed load is forgotten so the next call tries again, unless a newer load replaced it.
    const loading: Promise<Loaded> = loadModel(this.options).catch((error: unknown) => {
      if (this.loading === loading) this.loading = undefined;
      throw error;
    });
    this.loading = loading;
    return loading;
  }

  private async run(loaded: Loaded, rows: readonly number[][]): Promise<Float32Array[]> {
    const lengths = rows.map((row) => row.length);
    const paddedLength = Math.max(...lengths);
    const inputIds = new BigInt64Array(rows.length * paddedLength);
    const attentionMask = new BigInt64Array(rows.length * paddedLength);
    rows.forEach((row, index) => {
      row.forEach((id, position) => {
        inputIds[index * paddedLength + position] = BigInt(id);
        attentionMask[index * paddedLength + position] = 1n;
      });
    });
    const shape = [rows.length, paddedLength];
    const feeds: InferenceSession.FeedsType = {
      input_ids: new Tensor('int64', inputIds, shape),
      attention_mask: new Tensor('int64', attentionMask, shape),
      ...(loaded.takesTokenTypes ? { token_type_ids: new Tensor('int64', new BigInt64Array(rows.length * paddedLength), shape) } : {}),
    };

    const running = loaded.session.run(feeds);
    this.running.add(running);
    let hidden: Tensor | undefined;
    try {
      hidden = (await running)[loaded.outputName];
    } catch (cause) {
      throw invalid(this.options.modelDir, 'model.onnx', `ONNX Runtime failed to run it: ${(cause as Error).message}`, cause);
    } finally {
      this.running.delete(running);
    }
    const expected = [rows.length, paddedLength, this.dimensions];
    if (hidden?.type !== 'float32' || hidden.dims.join() !== expected.join()) {
      throw invalid(
        this.options.modelDir,
        'model.onnx',
        `its output "${loaded.outputName}" is ${hidden?.type ?? 'missing'} [${hidden?.dims.join(', ') ?? ''}], expected float32 [${expected.join(', ')}]`,
      );
    }
    return meanPoolNormalize(hidden.data as Float32Array, lengths, paddedLength, this.dimensions);
  }
}

async function loadModel({ modelDir, threads }: MiniLmOptions): Promise<Loaded> {
  const [tokenizerJson, tokenizerConfig, sentenceConfig, poolingConfig] = await Promise.all(
    (['tokenizer.json', 'tokenizer_config.json', 'sentence_bert_config.json', 'pooling_config.json'] as const).map((name) => readJson(modelDir, name)),
  );

  const pooling = poolingConfig as Record<string, unknown>;
  const poolingModes = Object.keys(pooling).filter((key) => key.startsWith('pooling_mode_') && pooling[key] === true);
  if (poolingModes.join() !== 'pooling_mode_mean_tokens' || pooling['word_embedding_dimension'] !== miniLm.dimensions) {
    throw invalid(
      modelDir,
      'pooling_config.json',
      `it asks for ${poolingModes.join(' + ') || 'no'} pooling of ${String(pooling['word_embedding_dimension'])} dimensions; this embedder does mean pooling of ${miniLm.dimensions}`,
    );
  }
  const maxTokens = (sentenceConfig as Record<string, unknown>)['max_seq_length'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 3) {
    throw invalid(modelDir, 'sentence_bert_config.json', 'it has no usable max_seq_length');
  }

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson as object, tokenizerConfig as object);
  } catch (cause) {
    throw invalid(modelDir, 'tokenizer.json', `the tokenizer cannot be built from it: ${(cause as Error).message}`, cause);
  }

  const modelPath = join(modelDir, 'model.onnx');
  await stat(modelPath).catch((cause: unknown) => {
    throw missing(modelDir, 'model.onnx', cause);
  });
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle pool threads that spin steal the core the LLM runs on: measured 27 vs 44 texts/s
      // with 2 threads beside a busy core (rag/README.md).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
      // Errors only: ONNX Runtime otherwise writes warnings about the graph to stderr.
      logSeverityLevel: 3,
    });
  } catch (cause) {
    throw invalid(modelDir, 'model.onnx', `ONNX Runtime cannot load it: ${(cause as Error).message}`, cause);
  }
  const outputName = session.outputNames[0];
  if (!session.inputNames.includes('input_ids') || !session.inputNames.includes('attention_mask') || outputName === undefined) {
    await session.release();
    throw invalid(modelDir, 'model.onnx', `it takes [${session.inputNames.join(', ')}], not the input_ids and attention_mask of a BERT encoder`);
  }
  return { session, tokenizer, maxTokens, takesTokenTypes: session.inputNames.includes('token_type_ids'), outputName };
}

async function readJson(modelDir: string, name: MiniLmFileName): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(modelDir, name), 'utf8');
  } catch (cause) {
    throw missing(modelDir, name, cause);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw invalid(modelDir, name, 'it is not valid JSON', cause);
  }
}

/**
 * Token ids with [CLS] and [SEP], cut as the Rust tokenizer truncates a single text: the first
 * `maxTokens` − 1 ids, then [SEP].
 */
function encodeTruncated(tokenizer: Tokenizer, text: string, maxTokens: number): number[] {
  // A long text is mostly cut away, so tokenise a prefix first. Ending the prefix at ASCII
  // whitespace keeps it exact: no token spans whitespace and the normaliser works per character.
  const prefixChars = maxTokens * 12;
  if (text.length > prefixChars) {
    const cut = Math.max(...[' ', '\n', '\t', '\r'].map((space) => text.lastIndexOf(space, prefixChars)));
    if (cut > 0) {
      const ids = tokenizer.encode(text.slice(0, cut)).ids;
      if (ids.length >= maxTokens) return truncate(ids, maxTokens);
    }
  }
  return truncate(tokenizer.encode(text).ids, maxTokens);
}

function truncate(ids: number[], maxTokens: number): number[] {
  return ids.length > maxTokens ? [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!] : ids;
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled('Embedding was cancelled.');
}

const refetchFix = (modelDir: string) =>
  `Delete ${modelDir} and run npllm again: it downloads the embedding model anew on next use (in a checkout, "npm run fetch-models" does it).`;

function missing(modelDir: string, name: MiniLmFileName, cause: unknown): ModelError {
  return new ModelError('MODEL_NOT_FOUND', `The embedding model file ${join(modelDir, name)} is missing.`, { cause, fix: refetchFix(modelDir) });
}

function invalid(modelDir: string, name: MiniLmFileName, reason: string, cause?: unknown): ModelError {
  return new ModelError('MODEL_INVALID', `The embedding model file ${join(modelDir, name)} is unusable: ${reason}.`, { cause, fix: refetchFix(modelDir) });
}
