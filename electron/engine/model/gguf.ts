/**
 * Checks a GGUF before llama.cpp sees it, so a wrong or damaged file gets an error that names the
 * file and the fix instead of llama.cpp's "Failed to load model".
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { readGgufFileInfo } from 'node-llama-cpp';
import { ModelError } from '../../../shared/errors.js';

export interface GgufSummary {
  path: string;
  sizeBytes: number;
  architecture: string;
  name: string | null;
  tensorCount: number;
}

export async function inspectGguf(path: string): Promise<GgufSummary> {
  let sizeBytes: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new Error('not a regular file');
    sizeBytes = stats.size;
  } catch (cause) {
    throw new ModelError('MODEL_NOT_FOUND', `The model file ${path} does not exist or is not a file.`, {
      cause,
      fix: 'Pass the path of a .gguf file with --model (or model.path in the config), or leave it unset to use the default SmolLM2-135M-Instruct.',
    });
  }
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(path, {
      readTensorInfo: true,
      ignoreKeys: ['tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'tokenizer.ggml.token_type', 'tokenizer.ggml.scores'],
    });
  } catch (cause) {
    throw new ModelError('MODEL_INVALID', `${path} is not a GGUF model file (${(cause as Error).message}).`, {
      cause,
      fix: "npllm runs GGUF models (llama.cpp format). Convert the model with llama.cpp's convert_hf_to_gguf.py or download a .gguf build of it.",
    });
  }
  const tensors = info.tensorInfo ?? [];
  const lastTensorStart = tensors.reduce((max, tensor) => Math.max(max, Number(tensor.fileOffset)), 0);
  if (tensors.length === 0 || lastTensorStart >= sizeBytes) {
    throw new ModelError('MODEL_INVALID', `The model file ${path} is truncated: its tensors need more than its ${sizeBytes} bytes.`, {
      fix: 'The download or copy was interrupted. Delete the file and download it again (npllm re-downloads the default model by itself).',
      details: { sizeBytes, lastTensorStart },
    });
  }
  if ((info.metadata.general as Record<string, unknown> | undefined)?.['type'] === 'adapter') {
    throw new ModelError('MODEL_INVALID', `${path} is a LoRA adapter, not a model.`, {
      fix: 'Pass the base model with --model; adapters are applied on top of it.',
    });
  }
  return {
    path,
    sizeBytes,
    architecture: String(info.metadata.general?.architecture ?? 'unknown'),
    name: typeof info.metadata.general?.name === 'string' ? info.metadata.general.name : null,
    tensorCount: tensors.length,
  };
}

/**
 * A stable identity for a model file that costs milliseconds, not a full hash of gigabytes:
 * size plus the first and last MiB (header, metadata and the tail of the tensor data).
 */
export async function fingerprintFile(path: string): Promise<string> {
  const chunk = 1024 * 1024;
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const hash = createHash('sha256').update(String(size));
    const head = Buffer.alloc(Math.min(chunk, size));
    await handle.read(head, 0, head.length, 0);
    hash.update(head);
    if (size > chunk) {
      const tail = Buffer.alloc(Math.min(chunk, size - chunk));
      await handle.read(tail, 0, tail.length, size - tail.length);
      hash.update(tail);
    }
    return hash.digest('hex').slice(0, 16);
  } finally {
    await handle.close();
  }
}
