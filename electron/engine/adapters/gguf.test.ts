import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, NpllmError } from '../../../shared/errors.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import { encodeGguf, encodeLoraAdapter, freshLora, writeLoraAdapter, type GgufWritableValue, type LoraAdapterSpec, type LoraTensor } from './gguf-writer.js';
import { sha256File } from '../base/files.js';
import { inspectAdapter, readGgufHeader, type BaseModelShapes } from './gguf.js';

/** A llama-shaped base in miniature: d = 16, KV width 8, vocabulary 32. */
const base: BaseModelShapes = {
  path: '/models/tiny-llama.gguf',
  architecture: 'llama',
  tensors: new Map([
    ['token_embd.weight', [16, 32]],
    ['blk.0.attn_norm.weight', [16]],
    ['blk.0.attn_q.weight', [16, 16]],
    ['blk.0.attn_v.weight', [16, 8]],
    ['blk.0.ffn_down.weight', [24, 16]],
  ]),
};

let home: TempHome;
beforeAll(() => {
  home = tempHome('npllm-gguf-');
});
afterAll(() => home.cleanup());

let files = 0;
function fileFor(bytes: Uint8Array[] | Buffer): string {
  const path = join(home.home, `adapter-${++files}.gguf`);
  writeFileSync(path, Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
  return path;
}

function spec(overrides: Partial<LoraAdapterSpec> = {}): LoraAdapterSpec {
  return { ...freshLora(base, { targets: /attn_(q|v)\.weight$/, rank: 4, alpha: 8, seed: 3 }), ...overrides };
}

function tensor(name: string, dims: number[]): LoraTensor {
  return { name, dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) };
}

function adapterMetadata(overrides: Record<string, GgufWritableValue | null> = {}): [string, GgufWritableValue][] {
  const entries: Record<string, GgufWritableValue | null> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.type': { type: 'string', value: 'adapter' },
    'adapter.type': { type: 'string', value: 'lora' },
    'adapter.lora.alpha': { type: 'f32', value: 8 },
    ...overrides,
  };
  return Object.entries(entries).filter((entry): entry is [string, GgufWritableValue] => entry[1] !== null);
}

async function problem(path: string, options: Parameters<typeof inspectAdapter>[1] = { base }): Promise<NpllmError> {
  const error = await rejection(inspectAdapter(path, options));
  expect(error).toBeInstanceOf(AdapterError);
  expect(error.message).toContain(path);
  expect(error.fix).toBeTruthy();
  return error;
}

describe('GGUF LoRA writer and reader', () => {
  it('round-trips metadata, tensor infos and data, aligned to 32 bytes', async () => {
    const adapter = spec({ metadata: { 'general.name': 'odoo v1' } });
    const path = join(home.home, 'nested', 'roundtrip.gguf');
    const written = await writeLoraAdapter(path, adapter);
    expect(written.sha256).toBe(await sha256File(path));
    expect(readdirSync(join(home.home, 'nested'))).toEqual(['roundtrip.gguf']);

    const header = await readGgufHeader(path);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect(header.metadata.get('general.architecture')).toEqual({ type: 'string', value: 'llama' });
    expect(header.metadata.get('general.type')).toEqual({ type: 'string', value: 'adapter' });
    expect(header.metadata.get('adapter.type')).toEqual({ type: 'string', value: 'lora' });
    expect(header.metadata.get('adapter.lora.alpha')).toEqual({ type: 'f32', value: 8 });
    expect(header.metadata.get('general.name')).toEqual({ type: 'string', value: 'odoo v1' });
    expect(header.tensors.map((t) => [t.name, t.dims])).toEqual(adapter.tensors.map((t) => [t.name, t.dims]));
    const bytes = readFileSync(path);
    expect(header.dataOffset % 32).toBe(0);
    for (const [index, info] of header.tensors.entries()) {
      expect(info.offset % 32).toBe(0);
      expect(info.bytes).toBe(adapter.tensors[index]!.data.byteLength);
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + info.offset, bytes.byteOffset + info.offset + info.bytes!));
      expect(data).toEqual(adapter.tensors[index]!.data);
    }

    const info = await inspectAdapter(path, { base, sha256: written.sha256 });
    expect(info).toMatchObject({
      architecture: 'llama',
      alpha: 8,
      rank: 4,
      targets: ['blk.0.attn_q.weight', 'blk.0.attn_v.weight'],
      tensorCount: 4,
      bytes: bytes.length,
    });
  });

  it('starts fresh adapters at the identity: A small and seeded, B zero', () => {
    const a = freshLora(base, { targets: ['blk.0.attn_q.weight'], rank: 2, alpha: 4, seed: 9 });
    const again = freshLora(base, { targets: ['blk.0.attn_q.weight'], rank: 2, alpha: 4, seed: 9 });
    expect(a.tensors.map((t) => [t.name, t.dims])).toEqual([
      ['blk.0.attn_q.weight.lora_a', [16, 2]],
      ['blk.0.attn_q.weight.lora_b', [2, 16]],
    ]);
    expect(a.tensors[0]!.data).toEqual(again.tensors[0]!.data);
    expect(Math.max(...a.tensors[0]!.data.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(16));
    expect(a.tensors[0]!.data.some((value) => value !== 0)).toBe(true);
    expect(a.tensors[1]!.data.every((value) => value === 0)).toBe(true);
    expect(() => freshLora(base, { targets: /nothing/, rank: 2, alpha: 4 })).toThrow(/no tensor/);
  });

  it('refuses tensors whose data does not match their dimensions', () => {
    expect(() => encodeLoraAdapter({ architecture: 'llama', alpha: 1, tensors: [{ name: 'x.lora_a', dims: [4, 2], data: new Float32Array(7) }] })).toThrow(
      /holds 7 values/,
    );
    expect(() => encodeLoraAdapter({ architecture: 'llama', alpha: Number.NaN, tensors: [] })).toThrow(/alpha/);
  });

  it('accepts token_embd with A and B flipped, as llama.cpp expects', async () => {
    const path = fileFor(
      encodeLoraAdapter({
        architecture: 'llama',
        alpha: 4,
        tensors: [tensor('token_embd.weight.lora_a', [2, 32]), tensor('token_embd.weight.lora_b', [2, 16])],
      }),
    );
    expect((await inspectAdapter(path, { base })).rank).toBe(2);
  });
});

describe('adapter validation names the file, the problem and the fix', () => {
  it('wrong architecture', async () => {
    const error = await problem(fileFor(encodeLoraAdapter(spec({ architecture: 'qwen2' }))));
    expect(error.code).toBe('ADAPTER_MISMATCH');
    expect(error.message).toMatch(/qwen2 architecture.*base model .* is llama/);
  });

  it('names the model an npllm-trained adapter belongs to, and how to get one for this base', async () => {
    const qwen = fileFor(encodeLoraAdapter(spec({ architecture: 'qwen2', metadata: { 'npllm.base_model': 'Qwen2.5 Coder 1.5B Instruct' } })));
    const foreign = await problem(qwen);
    expect(foreign.code).toBe('ADAPTER_MISMATCH');
    expect(foreign.message).toMatch(/qwen2 architecture.*is llama\. It was trained on Qwen2\.5 Coder 1\.5B Instruct\./);
    expect(foreign.fix).toMatch(/model it was trained on \(Qwen2\.5 Coder 1\.5B Instruct\).*npllm learn --project/);
    // Same architecture, another size: the shapes give it away.
    const wide = fileFor(
      encodeLoraAdapter({
        architecture: 'llama',
        alpha: 8,
        metadata: { 'npllm.base_model': 'bigger llama' },
        tensors: [tensor('blk.0.attn_q.weight.lora_a', [32, 4]), tensor('blk.0.attn_q.weight.lora_b', [4, 32])],
      }),
    );
    const error = await problem(wide);
    expect(error.code).toBe('ADAPTER_MISMATCH');
    expect(error.message).toMatch(/blk\.0\.attn_q\.weight is \[16, 16\].*It was trained on bigger llama\./);
    expect(error.fix).toMatch(/\(bigger llama\)/);
  });

  it('shapes that do not fit the base', async () => {
    const path = fileFor(
      encodeLoraAdapter({
        architecture: 'llama',
        alpha: 8,
        tensors: [tensor('blk.0.attn_v.weight.lora_a', [16, 4]), tensor('blk.0.attn_v.weight.lora_b', [4, 16])],
      }),
    );
    const error = await problem(path);
    expect(error.code).toBe('ADAPTER_MISMATCH');
    expect(error.message).toMatch(/blk\.0\.attn_v\.weight is \[16, 8\].*lora_b \[4, 16\]/);
  });

  it('a tensor the base does not have', async () => {
    const path = fileFor(
      encodeLoraAdapter({
        architecture: 'llama',
        alpha: 8,
        tensors: [tensor('blk.7.attn_q.weight.lora_a', [16, 4]), tensor('blk.7.attn_q.weight.lora_b', [4, 16])],
      }),
    );
    expect((await problem(path)).message).toMatch(/changes blk\.7\.attn_q\.weight, which the base model .* does not have/);
  });

  it('a model, not an adapter', async () => {
    const path = fileFor(encodeGguf(adapterMetadata({ 'general.type': { type: 'string', value: 'model' } }), [tensor('blk.0.attn_q.weight', [16, 16])]));
    const error = await problem(path);
    expect(error.code).toBe('ADAPTER_INVALID');
    expect(error.message).toMatch(/is not an adapter: general.type is "model"/);
  });

  it('another kind of adapter', async () => {
    const path = fileFor(encodeGguf(adapterMetadata({ 'adapter.type': { type: 'string', value: 'control_vector' } }), []));
    expect((await problem(path)).message).toMatch(/adapter.type is "control_vector", not "lora"/);
  });

  it('alpha missing, or stored as anything but f32 (which would abort llama.cpp)', async () => {
    const lora = [tensor('blk.0.attn_q.weight.lora_a', [16, 4]), tensor('blk.0.attn_q.weight.lora_b', [4, 16])];
    expect((await problem(fileFor(encodeGguf(adapterMetadata({ 'adapter.lora.alpha': null }), lora)))).message).toMatch(
      /adapter.lora.alpha as a finite f32, found none/,
    );
    expect((await problem(fileFor(encodeGguf(adapterMetadata({ 'adapter.lora.alpha': { type: 'f64', value: 8 } }), lora)))).message).toMatch(/found a f64/);
    expect((await problem(fileFor(encodeGguf(adapterMetadata({ 'adapter.lora.alpha': { type: 'u32', value: 8 } }), lora)))).message).toMatch(/found a u32/);
  });

  it('unpaired, misnamed or mixed-rank tensors', async () => {
    expect((await problem(fileFor(encodeGguf(adapterMetadata(), [tensor('blk.0.attn_q.weight.lora_a', [16, 4])])))).message).toMatch(
      /lora_a without its blk.0.attn_q.weight.lora_b/,
    );
    expect((await problem(fileFor(encodeGguf(adapterMetadata(), [tensor('blk.0.attn_q.weight', [16, 16])])))).message).toMatch(
      /not <base tensor>.lora_a or .lora_b/,
    );
    const mixed = [
      tensor('blk.0.attn_q.weight.lora_a', [16, 4]),
      tensor('blk.0.attn_q.weight.lora_b', [4, 16]),
      tensor('blk.0.attn_v.weight.lora_a', [16, 2]),
      tensor('blk.0.attn_v.weight.lora_b', [2, 8]),
    ];
    expect((await problem(fileFor(encodeGguf(adapterMetadata(), mixed)))).message).toMatch(/mixes ranks/);
    const transposed = [tensor('blk.0.attn_q.weight.lora_a', [4, 16]), tensor('blk.0.attn_q.weight.lora_b', [4, 16])];
    expect((await problem(fileFor(encodeGguf(adapterMetadata(), transposed)))).message).toMatch(/different ranks/);
    expect((await problem(fileFor(encodeGguf(adapterMetadata(), [])))).message).toMatch(/no LoRA tensors/);
  });

  it('truncated in the tensor data or in the header', async () => {
    const whole = Buffer.concat(encodeLoraAdapter(spec()));
    const cutData = fileFor(whole);
    truncateSync(cutData, whole.length - 100);
    expect((await problem(cutData)).message).toMatch(/truncated: tensor blk\.0\.attn_v\.weight\.lora_b needs bytes up to \d+, the file has \d+/);
    const cutHeader = fileFor(whole.subarray(0, 60));
    expect((await problem(cutHeader)).message).toMatch(/not a readable GGUF file: the header ends abruptly/);
  });

  it('not GGUF at all', async () => {
    expect((await problem(fileFor(Buffer.from('PK\u0003\u0004 a zip file, not a model')))).message).toMatch(/GGUF magic/);
  });

  it('a missing file', async () => {
    const error = await problem(join(home.home, 'gone.gguf'));
    expect(error.code).toBe('ADAPTER_NOT_FOUND');
  });

  it('a file that changed since it was registered', async () => {
    const path = fileFor(encodeLoraAdapter(spec()));
    const error = await problem(path, { base, sha256: '0'.repeat(64) });
    expect(error.code).toBe('ADAPTER_INVALID');
    expect(error.message).toMatch(/changed since it was registered: its SHA-256 is [0-9a-f]{64}, the registry recorded 0{64}/);
  });

  it('errors survive serialisation as AdapterError', async () => {
    const error = await problem(join(home.home, 'gone.gguf'));
    const revived = NpllmError.fromJSON(JSON.parse(JSON.stringify(error.toJSON())) as ReturnType<NpllmError['toJSON']>);
    expect(revived).toBeInstanceOf(AdapterError);
    expect(revived.status).toBe(404);
  });
});
