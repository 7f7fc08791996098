/**
 * MAS importance across projects (learning/README.md). The trainer measures Ω of one project's
 * data on the adapter it just trained; an adapter's Ω is the **sum** over every project it learned,
 * as Aljundi et al. (2018, §4) accumulate importance task after task, so a parameter that mattered
 * to any earlier project stays anchored. The trainer normalises by mean(Ω) when it applies the
 * penalty, so summing rather than averaging changes only how projects weigh against each other:
 * each project counts once, however much data it had.
 */
import { open } from 'node:fs/promises';
import { AdapterError } from '../../../shared/errors.js';
import { encodeGguf, type GgufWritableValue, type LoraTensor } from '../adapters/gguf-writer.js';
import { metadataString, readF32Tensor, readGgufHeader, type GgufHeader } from '../adapters/gguf.js';
import { writeFileAtomic } from '../base/files.js';

export const importanceFileType = 'npllm.mas_importance';

export interface ImportanceFile {
  tensors: LoraTensor[];
  /** Windows measured, over every project summed in. */
  samples: number;
  projects: number;
}

export interface ImportanceStats {
  mean: number;
  max: number;
  /** Share of parameters whose Ω is below 1 % of the mean: the ones free to move. */
  freeShare: number;
  samples: number;
  projects: number;
  parameters: number;
}

export async function readImportance(path: string): Promise<ImportanceFile> {
  let header: GgufHeader;
  try {
    header = await readGgufHeader(path, { maxArrayItems: 0 });
  } catch (cause) {
    throw new AdapterError('ADAPTER_INVALID', `The importance file ${path} cannot be read: ${(cause as Error).message}.`, {
      cause,
      fix: 'Learn the project again (npllm learn --project PATH): the next run measures importance anew.',
    });
  }
  if (metadataString(header, 'general.type') !== importanceFileType) {
    throw new AdapterError(
      'ADAPTER_INVALID',
      `${path} is not an npllm importance file (general.type is ${metadataString(header, 'general.type') ?? 'missing'}).`,
      { fix: 'Point importance at a file the trainer wrote (npllm-train importance).' },
    );
  }
  const handle = await open(path, 'r');
  try {
    const tensors: LoraTensor[] = [];
    for (const info of header.tensors) {
      try {
        tensors.push({ name: info.name, dims: info.dims, data: await readF32Tensor(handle, info) });
      } catch (cause) {
        throw new AdapterError('ADAPTER_INVALID', `Importance file ${path}: ${(cause as Error).message}.`, {
          cause,
          fix: 'Measure importance again with npllm-train.',
        });
      }
    }
    return { tensors, samples: numberAt(header, 'npllm.mas.samples') ?? 0, projects: numberAt(header, 'npllm.mas.projects') ?? 1 };
  } finally {
    await handle.close();
  }
}

/** Ω of the earlier projects plus Ω of the new one; both must name the same tensors with the same shapes. */
export function accumulateImportance(earlier: ImportanceFile | null, added: ImportanceFile): ImportanceFile {
  if (!earlier) return added;
  const byName = new Map(earlier.tensors.map((tensor) => [tensor.name, tensor]));
  if (byName.size !== added.tensors.length) {
    throw new AdapterError('ADAPTER_INVALID', `The importance files disagree: ${byName.size} and ${added.tensors.length} tensors.`, {
      fix: 'The adapter changed shape between versions; learn it as a new adapter.',
    });
  }
  const tensors = added.tensors.map((tensor) => {
    const before = byName.get(tensor.name);
    if (!before || before.data.length !== tensor.data.length) {
      throw new AdapterError('ADAPTER_INVALID', `Importance tensor ${tensor.name} has no counterpart of the same shape in the earlier file.`, {
        fix: 'The adapter changed shape between versions; learn it as a new adapter.',
      });
    }
    const data = new Float32Array(tensor.data.length);
    for (let index = 0; index < data.length; index++) data[index] = before.data[index]! + tensor.data[index]!;
    return { name: tensor.name, dims: tensor.dims, data };
  });
  return { tensors, samples: earlier.samples + added.samples, projects: earlier.projects + added.projects };
}

export async function writeImportance(path: string, file: ImportanceFile, architecture: string): Promise<void> {
  const entries: [string, GgufWritableValue][] = [
    ['general.architecture', { type: 'string', value: architecture }],
    ['general.type', { type: 'string', value: importanceFileType }],
    ['npllm.mas.output', { type: 'string', value: 'mean_t ||logits_t||^2' }],
    ['npllm.mas.samples', { type: 'u32', value: file.samples }],
    ['npllm.mas.projects', { type: 'u32', value: file.projects }],
  ];
  await writeFileAtomic(path, encodeGguf(entries, file.tensors));
}

export function importanceStats(file: ImportanceFile): ImportanceStats {
  let sum = 0;
  let max = 0;
  let parameters = 0;
  for (const tensor of file.tensors) {
    for (const value of tensor.data) {
      sum += value;
      if (value > max) max = value;
    }
    parameters += tensor.data.length;
  }
  const mean = parameters ? sum / parameters : 0;
  let free = 0;
  for (const tensor of file.tensors) for (const value of tensor.data) if (value < mean * 0.01) free++;
  return { mean, max, freeShare: parameters ? free / parameters : 0, samples: file.samples, projects: file.projects, parameters };
}

function numberAt(header: GgufHeader, key: string): number | null {
  const value = header.metadata.get(key);
  if (!value || value.type === 'array' || typeof value.value === 'string' || typeof value.value === 'boolean') return null;
  return Number(value.value);
}
