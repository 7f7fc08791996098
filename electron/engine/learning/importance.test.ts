/** MAS importance files: written and read back as GGUF, summed across projects, refused with a fix when they do not fit. */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, type NpllmError } from '../../../shared/errors.js';
import { writeLoraAdapter } from '../adapters/gguf-writer.js';
import { metadataString, readGgufHeader } from '../adapters/gguf.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import { accumulateImportance, importanceFileType, importanceStats, readImportance, writeImportance, type ImportanceFile } from './importance.js';

let home: TempHome;
beforeAll(() => {
  home = tempHome('npllm-importance-');
});
afterAll(() => home.cleanup());

const file = (values: { a: number[]; b: number[] }, samples = 4, projects = 1): ImportanceFile => ({
  tensors: [
    { name: 'blk.0.attn_q.weight.lora_a', dims: [2, 2], data: Float32Array.from(values.a) },
    { name: 'blk.0.attn_q.weight.lora_b', dims: [2, 1], data: Float32Array.from(values.b) },
  ],
  samples,
  projects,
});

async function expectAdapterError(promise: Promise<unknown>, message: RegExp): Promise<NpllmError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(AdapterError);
  expect(error.code).toBe('ADAPTER_INVALID');
  expect(error.message).toMatch(message);
  expect(error.fix).toBeTruthy();
  return error;
}

function expectThrowsAdapterError(work: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    work();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AdapterError);
  expect((caught as AdapterError).code).toBe('ADAPTER_INVALID');
  expect((caught as AdapterError).message).toMatch(message);
  expect((caught as AdapterError).fix).toMatch(/new adapter/);
}

describe('importance files', () => {
  it('round-trips through GGUF: tensors, shapes, values, samples and projects', async () => {
    const path = join(home.home, 'omega.gguf');
    const written = file({ a: [0.5, 1.25, 0, 3e-7], b: [2, 1e6] }, 32, 3);
    await writeImportance(path, written, 'llama');
    const read = await readImportance(path);
    expect(read.samples).toBe(32);
    expect(read.projects).toBe(3);
    expect(read.tensors.map((tensor) => [tensor.name, tensor.dims])).toEqual(written.tensors.map((tensor) => [tensor.name, tensor.dims]));
    for (const [index, tensor] of read.tensors.entries()) expect([...tensor.data]).toEqual([...written.tensors[index]!.data]);

    // Tagged so that nothing mistakes it for an adapter, with the base's architecture.
    const header = await readGgufHeader(path);
    expect(metadataString(header, 'general.type')).toBe(importanceFileType);
    expect(metadataString(header, 'general.architecture')).toBe('llama');
  });

  it('replaces an existing file whole (written atomically)', async () => {
    const path = join(home.home, 'replaced.gguf');
    await writeImportance(path, file({ a: [1, 1, 1, 1], b: [1, 1] }), 'llama');
    await writeImportance(path, file({ a: [2, 2, 2, 2], b: [2, 2] }, 8, 2), 'llama');
    const read = await readImportance(path);
    expect([...read.tensors[0]!.data]).toEqual([2, 2, 2, 2]);
    expect(read.projects).toBe(2);
  });

  it('sums values, samples and projects when a project is added', () => {
    const earlier = file({ a: [1, 2, 3, 4], b: [0.5, 0] }, 32, 2);
    const added = file({ a: [0.25, 0, 1, 10], b: [0.5, 7] }, 16, 1);
    const sum = accumulateImportance(earlier, added);
    expect([...sum.tensors[0]!.data]).toEqual([1.25, 2, 4, 14]);
    expect([...sum.tensors[1]!.data]).toEqual([1, 7]);
    expect(sum.tensors.map((tensor) => tensor.dims)).toEqual([
      [2, 2],
      [2, 1],
    ]);
    expect([sum.samples, sum.projects]).toEqual([48, 3]);
    // The inputs are left as they were.
    expect([...earlier.tensors[0]!.data]).toEqual([1, 2, 3, 4]);
  });

  it('matches tensors by name, not by position', () => {
    const earlier = file({ a: [1, 1, 1, 1], b: [1, 1] });
    const added = file({ a: [1, 2, 3, 4], b: [5, 6] });
    added.tensors.reverse();
    const sum = accumulateImportance(earlier, added);
    expect(sum.tensors.map((tensor) => tensor.name)).toEqual(['blk.0.attn_q.weight.lora_b', 'blk.0.attn_q.weight.lora_a']);
    expect([...sum.tensors[0]!.data]).toEqual([6, 7]);
  });

  it('takes the first project as it is', () => {
    const added = file({ a: [1, 2, 3, 4], b: [5, 6] }, 4, 1);
    expect(accumulateImportance(null, added)).toBe(added);
  });

  it('refuses files that disagree in tensor count, names or shapes, with a fix', () => {
    const earlier = file({ a: [1, 1, 1, 1], b: [1, 1] });
    const fewer = { ...earlier, tensors: earlier.tensors.slice(0, 1) };
    expectThrowsAdapterError(() => accumulateImportance(earlier, fewer), /disagree: 2 and 1 tensors/);
    const renamed = file({ a: [1, 1, 1, 1], b: [1, 1] });
    renamed.tensors[1] = { ...renamed.tensors[1]!, name: 'blk.0.attn_v.weight.lora_b' };
    expectThrowsAdapterError(() => accumulateImportance(earlier, renamed), /blk\.0\.attn_v\.weight\.lora_b has no counterpart/);
    const reshaped = file({ a: [1, 1, 1, 1, 1, 1], b: [1, 1] });
    reshaped.tensors[0] = { ...reshaped.tensors[0]!, dims: [2, 3] };
    expectThrowsAdapterError(() => accumulateImportance(earlier, reshaped), /blk\.0\.attn_q\.weight\.lora_a has no counterpart of the same shape/);
  });

  it('refuses a LoRA adapter passed as an importance file, with a fix', async () => {
    const path = join(home.home, 'adapter.gguf');
    await writeLoraAdapter(path, { architecture: 'llama', alpha: 16, tensors: file({ a: [1, 2, 3, 4], b: [5, 6] }).tensors });
    const error = await expectAdapterError(readImportance(path), /is not an npllm importance file \(general\.type is adapter\)/);
    expect(error.fix).toMatch(/npllm-train importance/);
  });

  it('refuses what is not GGUF, a missing file and a truncated one, with a fix', async () => {
    const text = join(home.home, 'notes.gguf');
    writeFileSync(text, 'this is not a GGUF file at all, only text');
    const notGguf = await expectAdapterError(readImportance(text), /cannot be read/);
    expect(notGguf.fix).toMatch(/npllm learn --project/);
    await expectAdapterError(readImportance(join(home.home, 'missing.gguf')), /cannot be read/);

    const whole = join(home.home, 'whole.gguf');
    await writeImportance(whole, file({ a: [1, 2, 3, 4], b: [5, 6] }), 'llama');
    const cut = join(home.home, 'cut.gguf');
    writeFileSync(cut, readFileSync(whole));
    // The last tensor holds 8 bytes, padded to 32: cut into its values.
    truncateSync(cut, readFileSync(whole).length - 28);
    await expectAdapterError(readImportance(cut), /truncated|cannot be read/);
  });
});

describe('importanceStats', () => {
  it('reports mean, max, the share free to move, samples, projects and parameters', () => {
    // Six values, mean 2: below 1 % of the mean (0.02) are 0 and 0.01.
    const stats = importanceStats(file({ a: [0, 0.01, 1.99, 4], b: [6, 0] }, 12, 2));
    expect(stats.mean).toBeCloseTo(2, 6);
    expect(stats.max).toBe(6);
    expect(stats.freeShare).toBeCloseTo(3 / 6, 12);
    expect(stats).toMatchObject({ samples: 12, projects: 2, parameters: 6 });
  });

  it('gives zeros for an empty file, and counts every parameter free when all are zero', () => {
    expect(importanceStats({ tensors: [], samples: 0, projects: 0 })).toEqual({ mean: 0, max: 0, freeShare: 0, samples: 0, projects: 0, parameters: 0 });
    // Ω of a fresh adapter: 0 < 0 × 1 % is false, so nothing counts as free.
    expect(importanceStats(file({ a: [0, 0, 0, 0], b: [0, 0] })).freeShare).toBe(0);
  });
});
