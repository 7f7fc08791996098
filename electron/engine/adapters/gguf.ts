/**
 * Reads GGUF headers (metadata and tensor infos, never the tensor data) and checks a LoRA adapter
 * against its base model before llama.cpp sees it. llama.cpp refuses most bad adapters with an
 * exception, but some it does not survive: `adapter.lora.alpha` stored as anything but f32 trips
 * an assertion that aborts the whole process. So every adapter is checked here first, and a bad
 * one gets an error naming the file, the problem and the fix.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { AdapterError } from '../../../shared/errors.js';
import { sha256File } from '../base/files.js';

export const ggufValueTypes = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
export type GgufValueTypeName = keyof typeof ggufValueTypes;
const valueTypeNames = Object.fromEntries(Object.entries(ggufValueTypes).map(([name, id]) => [id, name])) as Record<number, GgufValueTypeName>;

export type GgufScalar = number | bigint | boolean | string;
/** A metadata value and the type it was stored as (llama.cpp asserts on types, so they matter). */
export type GgufValue =
  | { type: Exclude<GgufValueTypeName, 'array'>; value: GgufScalar }
  /** `values` is empty when the array was longer than `maxArrayItems` (tokenizer vocabularies). */
  | { type: 'array'; itemType: GgufValueTypeName; length: number; values: GgufScalar[] };

/** ggml tensor types whose storage size npllm knows: [elements per block, bytes per block]. */
export const ggmlTypes: Record<number, { name: string; block: number; bytes: number }> = {
  0: { name: 'F32', block: 1, bytes: 4 },
  1: { name: 'F16', block: 1, bytes: 2 },
  2: { name: 'Q4_0', block: 32, bytes: 18 },
  3: { name: 'Q4_1', block: 32, bytes: 20 },
  6: { name: 'Q5_0', block: 32, bytes: 22 },
  7: { name: 'Q5_1', block: 32, bytes: 24 },
  8: { name: 'Q8_0', block: 32, bytes: 34 },
  9: { name: 'Q8_1', block: 32, bytes: 36 },
  10: { name: 'Q2_K', block: 256, bytes: 84 },
  11: { name: 'Q3_K', block: 256, bytes: 110 },
  12: { name: 'Q4_K', block: 256, bytes: 144 },
  13: { name: 'Q5_K', block: 256, bytes: 176 },
  14: { name: 'Q6_K', block: 256, bytes: 210 },
  15: { name: 'Q8_K', block: 256, bytes: 292 },
  24: { name: 'I8', block: 1, bytes: 1 },
  25: { name: 'I16', block: 1, bytes: 2 },
  26: { name: 'I32', block: 1, bytes: 4 },
  27: { name: 'I64', block: 1, bytes: 8 },
  28: { name: 'F64', block: 1, bytes: 8 },
  30: { name: 'BF16', block: 1, bytes: 2 },
};
export const GGML_TYPE_F32 = 0;

export interface GgufTensorInfo {
  name: string;
  /** ggml order: `dims[0]` is the fastest-varying (a weight's input size). */
  dims: number[];
  type: number;
  /** Absolute position of the tensor's data in the file. */
  offset: number;
  /** Storage size, or null for a ggml type npllm does not know. */
  bytes: number | null;
}

export interface GgufHeader {
  version: number;
  alignment: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Where tensor data starts. */
  dataOffset: number;
  fileBytes: number;
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32

/** Thrown by the cursor when the header runs past the bytes read so far: read more and retry. */
class NeedMoreBytes extends Error {}

class Cursor {
  position = 0;
  constructor(
    private readonly buffer: Buffer,
    /** The buffer holds the whole file: running past it means the file is truncated. */
    private readonly complete: boolean,
  ) {}

  private take(bytes: number): number {
    if (this.position + bytes > this.buffer.length) {
      if (this.complete) throw new RangeError(`the header ends abruptly at byte ${this.buffer.length}`);
      throw new NeedMoreBytes();
    }
    const at = this.position;
    this.position += bytes;
    return at;
  }
  u8 = () => this.buffer.readUInt8(this.take(1));
  i8 = () => this.buffer.readInt8(this.take(1));
  u16 = () => this.buffer.readUInt16LE(this.take(2));
  i16 = () => this.buffer.readInt16LE(this.take(2));
  u32 = () => this.buffer.readUInt32LE(this.take(4));
  i32 = () => this.buffer.readInt32LE(this.take(4));
  f32 = () => this.buffer.readFloatLE(this.take(4));
  f64 = () => this.buffer.readDoubleLE(this.take(8));
  u64 = () => this.buffer.readBigUInt64LE(this.take(8));
  i64 = () => this.buffer.readBigInt64LE(this.take(8));
  /** A u64 that must fit a JS number (counts, lengths, offsets). */
  size(what: string): number {
    const value = this.u64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} is absurd (${value})`);
    return Number(value);
  }
  string(): string {
    const length = this.size('a string length');
    const at = this.take(length);
    return this.buffer.toString('utf8', at, at + length);
  }
}

function readScalar(cursor: Cursor, type: number): GgufScalar {
  switch (type) {
    case 0:
      return cursor.u8();
    case 1:
      return cursor.i8();
    case 2:
      return cursor.u16();
    case 3:
      return cursor.i16();
    case 4:
      return cursor.u32();
    case 5:
      return cursor.i32();
    case 6:
      return cursor.f32();
    case 7:
      return cursor.u8() !== 0;
    case 8:
      return cursor.string();
    case 10:
      return cursor.u64();
    case 11:
      return cursor.i64();
    case 12:
      return cursor.f64();
    default:
      throw new RangeError(`unknown metadata value type ${type}`);
  }
}

function parseHeader(buffer: Buffer, fileBytes: number, maxArrayItems: number): GgufHeader {
  const cursor = new Cursor(buffer, buffer.length >= fileBytes);
  if (cursor.u32() !== GGUF_MAGIC) throw new RangeError('it does not start with the GGUF magic bytes');
  const version = cursor.u32();
  if (version !== 2 && version !== 3) throw new RangeError(`GGUF version ${version} is not supported (2 or 3 are)`);
  const tensorCount = cursor.size('the tensor count');
  const kvCount = cursor.size('the metadata count');
  const metadata = new Map<string, GgufValue>();
  for (let index = 0; index < kvCount; index++) {
    const key = cursor.string();
    const type = cursor.u32();
    if (type === ggufValueTypes.array) {
      const itemType = cursor.u32();
      if (itemType === ggufValueTypes.array || !(itemType in valueTypeNames)) throw new RangeError(`metadata ${key} has arrays of unknown type ${itemType}`);
      const length = cursor.size(`the length of ${key}`);
      const values: GgufScalar[] = [];
      for (let item = 0; item < length; item++) {
        const value = readScalar(cursor, itemType);
        if (length <= maxArrayItems) values.push(value);
      }
      metadata.set(key, { type: 'array', itemType: valueTypeNames[itemType]!, length, values });
    } else {
      if (!(type in valueTypeNames)) throw new RangeError(`metadata ${key} has unknown type ${type}`);
      metadata.set(key, { type: valueTypeNames[type] as Exclude<GgufValueTypeName, 'array'>, value: readScalar(cursor, type) });
    }
  }
  const alignmentValue = metadata.get('general.alignment');
  const alignment = alignmentValue && alignmentValue.type !== 'array' ? Number(alignmentValue.value) : 32;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0)
    throw new RangeError(`general.alignment ${alignment} is not a power of two`);
  const infos: Omit<GgufTensorInfo, 'offset'>[] = [];
  const relativeOffsets: number[] = [];
  for (let index = 0; index < tensorCount; index++) {
    const name = cursor.string();
    const dimCount = cursor.u32();
    if (dimCount < 1 || dimCount > 4) throw new RangeError(`tensor ${name} has ${dimCount} dimensions`);
    const dims: number[] = [];
    for (let dim = 0; dim < dimCount; dim++) dims.push(cursor.size(`a dimension of ${name}`));
    const type = cursor.u32();
    relativeOffsets.push(cursor.size(`the offset of ${name}`));
    const known = ggmlTypes[type];
    const elements = dims.reduce((product, dim) => product * dim, 1);
    infos.push({ name, dims, type, bytes: known && elements % known.block === 0 ? (elements / known.block) * known.bytes : null });
  }
  const dataOffset = Math.ceil(cursor.position / alignment) * alignment;
  const tensors = infos.map((info, index) => ({ ...info, offset: dataOffset + relativeOffsets[index]! }));
  for (const [index, tensor] of tensors.entries()) {
    if (relativeOffsets[index]! % alignment !== 0) throw new RangeError(`tensor ${tensor.name} is not aligned to ${alignment} bytes`);
    if (tensor.bytes !== null && tensor.offset + tensor.bytes > fileBytes) {
      throw new RangeError(`it is truncated: tensor ${tensor.name} needs bytes up to ${tensor.offset + tensor.bytes}, the file has ${fileBytes}`);
    }
  }
  return { version, alignment, metadata, tensors, dataOffset, fileBytes };
}

/**
 * Parses a GGUF's header. Reads only as much of the file as the header takes (a few MB for a
 * model with its tokenizer, a few KB for an adapter). Arrays longer than `maxArrayItems` are
 * walked but not kept. Throws a RangeError describing what is wrong.
 */
export async function readGgufHeader(path: string, options: { maxArrayItems?: number } = {}): Promise<GgufHeader> {
  const handle = await open(path, 'r');
  try {
    const fileBytes = (await handle.stat()).size;
    for (let length = Math.min(fileBytes, 256 * 1024); ; length = Math.min(fileBytes, length * 4)) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      try {
        return parseHeader(buffer.subarray(0, bytesRead), fileBytes, options.maxArrayItems ?? 256);
      } catch (error) {
        if (!(error instanceof NeedMoreBytes) || length >= fileBytes) throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

/** An F32 tensor's values, read from an open GGUF file; a RangeError names a tensor of another type or a file that ends early. */
export async function readF32Tensor(handle: FileHandle, info: GgufTensorInfo): Promise<Float32Array> {
  if (info.type !== GGML_TYPE_F32 || info.bytes === null) throw new RangeError(`tensor ${info.name} is not F32`);
  const bytes = Buffer.alloc(info.bytes);
  const { bytesRead } = await handle.read(bytes, 0, info.bytes, info.offset);
  if (bytesRead !== info.bytes) throw new RangeError(`the file is truncated at tensor ${info.name}`);
  const data = new Float32Array(info.bytes / 4);
  for (let index = 0; index < data.length; index++) data[index] = bytes.readFloatLE(index * 4);
  return data;
}

/** The metadata string at `key`, or null when absent or not a string. */
export function metadataString(header: GgufHeader, key: string): string | null {
  const value = header.metadata.get(key);
  return value?.type === 'string' ? (value.value as string) : null;
}

/** A base model as adapters see it: its architecture and the shape of every tensor. */
export interface BaseModelShapes {
  path: string;
  architecture: string;
  tensors: Map<string, number[]>;
}

export async function readBaseModelShapes(path: string): Promise<BaseModelShapes> {
  const header = await readGgufHeader(path, { maxArrayItems: 0 });
  return {
    path,
    architecture: metadataString(header, 'general.architecture') ?? 'unknown',
    tensors: new Map(header.tensors.map((tensor) => [tensor.name, tensor.dims])),
  };
}

export interface AdapterInfo {
  path: string;
  architecture: string;
  alpha: number;
  rank: number;
  /** The base tensors the adapter changes (`blk.0.attn_q.weight` …), in file order. */
  targets: string[];
  tensorCount: number;
  bytes: number;
}

export interface InspectAdapterOptions {
  /** Checks architecture, target names and shapes against this base model. */
  base?: BaseModelShapes | undefined;
  /** The SHA-256 the registry recorded: a file that changed since is refused. */
  sha256?: string | undefined;
}

/**
 * Everything llama.cpp's LoRA loader requires (llama-adapter.cpp), checked in TypeScript: the
 * metadata with the exact types it reads, `<tensor>.lora_a`/`.lora_b` pairs, A of ne [in, r] and
 * B of ne [r, out] for the base's [in, out] weight (token_embd flipped: A [r, vocab], B [r, d]),
 * one rank for every pair, and tensors that fit in the file.
 */
export async function inspectAdapter(path: string, options: InspectAdapterOptions = {}): Promise<AdapterInfo> {
  let header: GgufHeader;
  try {
    header = await readGgufHeader(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AdapterError('ADAPTER_NOT_FOUND', `The adapter file ${path} does not exist.`, {
        cause,
        fix: 'It was moved or deleted outside npllm. Restore it, or roll the adapter back to a version whose file exists (npllm adapters rollback NAME).',
      });
    }
    throw invalid(path, `is not a readable GGUF file: ${(cause as Error).message}`, cause);
  }
  const type = metadataString(header, 'general.type');
  if (type !== 'adapter') throw invalid(path, `is not an adapter: general.type is ${type === null ? 'missing' : `"${type}"`}, not "adapter"`);
  const adapterType = metadataString(header, 'adapter.type');
  if (adapterType !== 'lora')
    throw invalid(path, `is not a LoRA adapter: adapter.type is ${adapterType === null ? 'missing' : `"${adapterType}"`}, not "lora"`);
  const architecture = metadataString(header, 'general.architecture');
  if (architecture === null) throw invalid(path, 'has no general.architecture string');
  const alpha = header.metadata.get('adapter.lora.alpha');
  if (alpha?.type !== 'f32' || !Number.isFinite(alpha.value)) {
    throw invalid(path, `needs adapter.lora.alpha as a finite f32, found ${alpha ? `a ${alpha.type}` : 'none'} (llama.cpp aborts on any other type)`);
  }
  const invocation = header.metadata.get('adapter.alora.invocation_tokens');
  if (invocation && (invocation.type !== 'array' || invocation.itemType !== 'u32'))
    throw invalid(path, 'has adapter.alora.invocation_tokens that is not an array of u32');

  const pairs = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>();
  for (const tensor of header.tensors) {
    const match = /^(.+)\.lora_([ab])$/.exec(tensor.name);
    if (!match) throw invalid(path, `holds tensor ${tensor.name}, which is not <base tensor>.lora_a or .lora_b`);
    if (tensor.bytes === null) throw invalid(path, `stores ${tensor.name} as ggml type ${tensor.type}, which npllm cannot check (write F32, F16 or BF16)`);
    if (tensor.dims.length !== 2) throw invalid(path, `has ${tensor.name} with ${tensor.dims.length} dimensions, not 2`);
    const pair = pairs.get(match[1]!) ?? {};
    pair[match[2] as 'a' | 'b'] = tensor;
    pairs.set(match[1]!, pair);
  }
  if (pairs.size === 0) throw invalid(path, 'holds no LoRA tensors');
  // npllm-train records the base's general.name: the fix can then name the model to go back to.
  const trainedOn = metadataString(header, 'npllm.base_model');
  const otherModel = trainedOn ? ` It was trained on ${trainedOn}.` : '';
  const mismatchFix = `Serve it with the model it was trained on${trainedOn ? ` (${trainedOn})` : ''}, or learn the project again on this model (npllm learn --project PATH) to train an adapter for it.`;
  if (options.base && architecture !== options.base.architecture) {
    throw new AdapterError(
      'ADAPTER_MISMATCH',
      `The adapter ${path} is for the ${architecture} architecture, but the base model ${options.base.path} is ${options.base.architecture}.${otherModel}`,
      { fix: mismatchFix, details: { architecture, baseArchitecture: options.base.architecture, trainedOn } },
    );
  }
  let rank: number | null = null;
  for (const [target, { a, b }] of pairs) {
    if (!a || !b) throw invalid(path, `has ${target}.lora_${a ? 'a' : 'b'} without its ${target}.lora_${a ? 'b' : 'a'}`);
    const flipped = target === 'token_embd.weight';
    const [pairRank, otherRank] = flipped ? [a.dims[0]!, b.dims[0]!] : [a.dims[1]!, b.dims[0]!];
    if (pairRank !== otherRank) throw invalid(path, `has ${target}.lora_a [${a.dims.join(', ')}] and .lora_b [${b.dims.join(', ')}] of different ranks`);
    if (rank !== null && pairRank !== rank) throw invalid(path, `mixes ranks: ${target} has rank ${pairRank}, earlier tensors ${rank}`);
    rank = pairRank;
    if (!options.base) continue;
    const baseDims = options.base.tensors.get(target);
    if (!baseDims) {
      throw new AdapterError(
        'ADAPTER_MISMATCH',
        `The adapter ${path} changes ${target}, which the base model ${options.base.path} does not have.${otherModel}`,
        { fix: mismatchFix, details: { tensor: target, trainedOn } },
      );
    }
    const [input, output] = [baseDims[0]!, baseDims[1] ?? 1];
    const fits = baseDims.length === 2 && (flipped ? b.dims[1] === input && a.dims[1] === output : a.dims[0] === input && b.dims[1] === output);
    if (!fits) {
      throw new AdapterError(
        'ADAPTER_MISMATCH',
        `The adapter ${path} does not fit the base model ${options.base.path}: ${target} is [${baseDims.join(', ')}], its lora_a is [${a.dims.join(', ')}] and lora_b [${b.dims.join(', ')}] (lora_a must be [in, r], lora_b [r, out]).${otherModel}`,
        { fix: mismatchFix, details: { tensor: target, baseDims, loraA: a.dims, loraB: b.dims, trainedOn } },
      );
    }
  }
  if (options.sha256) {
    const actual = await sha256File(path);
    if (actual !== options.sha256) {
      throw new AdapterError(
        'ADAPTER_INVALID',
        `The adapter ${path} changed since it was registered: its SHA-256 is ${actual}, the registry recorded ${options.sha256}.`,
        {
          fix: 'The file was modified or damaged on disk. Restore it from a backup, or roll the adapter back to another version (npllm adapters rollback NAME).',
          details: { expected: options.sha256, actual },
        },
      );
    }
  }
  return {
    path,
    architecture,
    alpha: alpha.value as number,
    rank: rank!,
    targets: [...pairs.keys()],
    tensorCount: header.tensors.length,
    bytes: header.fileBytes,
  };
}

function invalid(path: string, problem: string, cause?: unknown): AdapterError {
  return new AdapterError('ADAPTER_INVALID', `The adapter ${path} ${problem}.`, {
    ...(cause === undefined ? {} : { cause }),
    fix: 'The file is damaged or was not written as a llama.cpp LoRA adapter. Train or export it again; until then npllm answers without it.',
  });
}
