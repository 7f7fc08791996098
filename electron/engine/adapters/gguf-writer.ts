/**
 * Writes LoRA adapters as llama.cpp loads them (GGUF v3, the layout in electron/engine/adapters/README.md):
 * `general.architecture` = the base's, `general.type` = "adapter", `adapter.type` = "lora",
 * `adapter.lora.alpha` as f32, then per target weight `<name>.lora_a` (ne [in, r]) and
 * `<name>.lora_b` (ne [r, out]) as F32, each aligned to 32 bytes. llama.cpp scales the product
 * B·A by alpha / r × the adapter's scale.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { seededRandom } from '../../../shared/random.js';
import { writeFileAtomic } from '../base/files.js';
import { GGML_TYPE_F32, GGUF_MAGIC, ggufValueTypes, type BaseModelShapes, type GgufScalar, type GgufValueTypeName } from './gguf.js';

/** An F32 tensor to write. */
export interface LoraTensor {
  /** `blk.0.attn_q.weight.lora_a` … */
  name: string;
  /** ggml order: lora_a [in, r], lora_b [r, out]. */
  dims: number[];
  /** Row-major in ggml order: element (i0, i1) at i0 + i1 × dims[0]. */
  data: Float32Array;
}

export interface LoraAdapterSpec {
  architecture: string;
  alpha: number;
  tensors: LoraTensor[];
  /** Extra metadata (`general.name`, provenance): strings, or numbers stored as f32. */
  metadata?: Record<string, string | number>;
}

const alignment = 32;

/** A metadata value and the type to store it as. */
export type GgufWritableValue =
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: Exclude<GgufValueTypeName, 'array' | 'string' | 'bool'>; value: number }
  /** As the reader returns 64-bit integers. */
  | { type: 'u64' | 'i64'; value: bigint }
  /** An array of scalars (a tokenizer's vocabulary, merges, token types). */
  | { type: 'array'; itemType: Exclude<GgufValueTypeName, 'array'>; values: readonly GgufScalar[] };

/** The adapter as the bytes of a GGUF file, in order. */
export function encodeLoraAdapter(spec: LoraAdapterSpec): Uint8Array[] {
  if (!Number.isFinite(spec.alpha)) throw new RangeError(`alpha must be a finite number, got ${spec.alpha}`);
  return encodeGguf(
    [
      ['general.architecture', { type: 'string', value: spec.architecture }],
      ['general.type', { type: 'string', value: 'adapter' }],
      ['adapter.type', { type: 'string', value: 'lora' }],
      ['adapter.lora.alpha', { type: 'f32', value: spec.alpha }],
      ...Object.entries(spec.metadata ?? {}).map(([key, value]): [string, GgufWritableValue] => [
        key,
        typeof value === 'string' ? { type: 'string', value } : { type: 'f32', value },
      ]),
    ],
    spec.tensors,
  );
}

/** Any GGUF v3 with F32 tensors (adapters above; tests write other kinds of files with it). */
export function encodeGguf(entries: [string, GgufWritableValue][], tensors: LoraTensor[]): Uint8Array[] {
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw new RangeError(`tensor ${tensor.name} appears twice`);
    names.add(tensor.name);
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (tensor.dims.length < 1 || tensor.dims.length > 4 || !tensor.dims.every((dim) => Number.isInteger(dim) && dim > 0)) {
      throw new RangeError(`tensor ${tensor.name} has invalid dimensions [${tensor.dims.join(', ')}]`);
    }
    if (tensor.data.length !== elements)
      throw new RangeError(`tensor ${tensor.name} holds ${tensor.data.length} values, its dimensions [${tensor.dims.join(', ')}] need ${elements}`);
  }
  const metadata: [string, GgufWritableValue][] = [
    ...entries.filter(([key]) => key !== 'general.alignment'),
    ['general.alignment', { type: 'u32', value: alignment }],
  ];

  const header = new ByteWriter();
  header.u32(GGUF_MAGIC);
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    header.u32(ggufValueTypes[value.type]);
    header.value(value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(GGML_TYPE_F32);
    header.u64(offset);
    offset = padded(offset + tensor.data.byteLength);
  }
  const head = header.bytes();
  const chunks: Uint8Array[] = [head, new Uint8Array(padded(head.length) - head.length)];
  for (const tensor of tensors) {
    const bytes = littleEndianF32(tensor.data);
    chunks.push(bytes, new Uint8Array(padded(bytes.length) - bytes.length));
  }
  return chunks;
}

/** Writes the adapter atomically (creating its folder); returns its SHA-256 and size. */
export async function writeLoraAdapter(path: string, spec: LoraAdapterSpec): Promise<{ sha256: string; bytes: number }> {
  await mkdir(dirname(path), { recursive: true });
  return writeFileAtomic(path, encodeLoraAdapter(spec));
}

export interface FreshLoraOptions {
  /** Base tensors to adapt, by name or by a pattern on the name (e.g. /attn_(q|v)\.weight$/). */
  targets: string[] | RegExp;
  rank: number;
  alpha: number;
  /** Seeds A's random initialisation, so a run can be repeated exactly. */
  seed?: number;
  /** Value of every B element; 0 (the default) makes the adapter a no-op until trained. */
  b?: number;
}

/**
 * A new adapter for `base`: A uniform in ±1/√in (as PEFT initialises it), B constant (zero by
 * default, so the adapter starts as the identity and training moves it from there).
 */
export function freshLora(base: BaseModelShapes, options: FreshLoraOptions): LoraAdapterSpec {
  const names = [...base.tensors.keys()].filter((name) => (Array.isArray(options.targets) ? options.targets.includes(name) : options.targets.test(name)));
  if (names.length === 0) throw new RangeError(`no tensor of ${base.path} matches the targets ${String(options.targets)}`);
  const random = seededRandom(options.seed ?? 1);
  const tensors: LoraTensor[] = [];
  for (const name of names) {
    const dims = base.tensors.get(name)!;
    if (dims.length !== 2 || name === 'token_embd.weight') throw new RangeError(`${name} [${dims.join(', ')}] is not a weight matrix LoRA can adapt here`);
    const [input, output] = dims as [number, number];
    const bound = 1 / Math.sqrt(input);
    const a = new Float32Array(input * options.rank).map(() => (random() * 2 - 1) * bound);
    tensors.push({ name: `${name}.lora_a`, dims: [input, options.rank], data: a });
    tensors.push({ name: `${name}.lora_b`, dims: [options.rank, output], data: new Float32Array(options.rank * output).fill(options.b ?? 0) });
  }
  return { architecture: base.architecture, alpha: options.alpha, tensors };
}

function padded(length: number): number {
  return Math.ceil(length / alignment) * alignment;
}

function littleEndianF32(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return view;
  const copy = Buffer.alloc(data.byteLength);
  data.forEach((value, index) => copy.writeFloatLE(value, index * 4));
  return copy;
}

class ByteWriter {
  private readonly parts: Buffer[] = [];
  value(value: GgufWritableValue) {
    if (value.type === 'array') {
      this.u32(ggufValueTypes[value.itemType]);
      this.u64(value.values.length);
      for (const item of value.values) {
        const ok =
          value.itemType === 'string'
            ? typeof item === 'string'
            : value.itemType === 'bool'
              ? typeof item === 'boolean'
              : typeof item === 'number' || (typeof item === 'bigint' && (value.itemType === 'u64' || value.itemType === 'i64'));
        if (!ok) throw new RangeError(`an array of ${value.itemType} cannot hold ${typeof item} ${String(item)}`);
        this.value({ type: value.itemType, value: item } as GgufWritableValue);
      }
      return;
    }
    if (value.type === 'string') {
      this.string(value.value);
      return;
    }
    if (value.type === 'bool') {
      this.parts.push(Buffer.from([value.value ? 1 : 0]));
      return;
    }
    const width = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 }[value.type];
    const buffer = Buffer.alloc(width);
    if (typeof value.value === 'bigint') {
      if (value.type === 'u64') buffer.writeBigUInt64LE(value.value);
      else buffer.writeBigInt64LE(value.value);
    } else if (value.type === 'u8') buffer.writeUInt8(value.value);
    else if (value.type === 'i8') buffer.writeInt8(value.value);
    else if (value.type === 'u16') buffer.writeUInt16LE(value.value);
    else if (value.type === 'i16') buffer.writeInt16LE(value.value);
    else if (value.type === 'u32') buffer.writeUInt32LE(value.value);
    else if (value.type === 'i32') buffer.writeInt32LE(value.value);
    else if (value.type === 'f32') buffer.writeFloatLE(value.value);
    else if (value.type === 'u64') buffer.writeBigUInt64LE(BigInt(value.value));
    else if (value.type === 'i64') buffer.writeBigInt64LE(BigInt(value.value));
    else buffer.writeDoubleLE(value.value);
    this.parts.push(buffer);
  }
  u32(value: number) {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value);
    this.parts.push(buffer);
  }
  u64(value: number) {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(BigInt(value));
    this.parts.push(buffer);
  }
  string(value: string) {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.parts.push(bytes);
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}
