/**
 * A model named by an `hf:` URI or a URL, fetched with node-llama-cpp's downloader into the models
 * folder. Its downloader retries an unreachable URL forever and does not stop on abort, so a URL's
 * server is asked once first, and the download is raced against a stall timer.
 */
import { resolveModelFile } from 'node-llama-cpp';
import type { Progress } from '../../../shared/contract.js';
import { ModelError } from '../../../shared/errors.js';

export interface DownloadOptions {
  cacheDir: string;
  /** The download fails when nothing arrives for this long. */
  stallMs: number;
  onProgress?: (progress: Progress) => void;
}

export async function downloadModel(source: string, { cacheDir, stallMs, onProgress }: DownloadOptions): Promise<string> {
  const failed = (reason: string, cause?: unknown) =>
    new ModelError('MODEL_DOWNLOAD_FAILED', `Cannot download the model ${source}: ${reason}.`, {
      cause,
      fix: 'Check the URI and your network access, or download the .gguf yourself and pass its path with --model.',
    });
  if (/^https?:/i.test(source)) await reachable(source, stallMs, failed);
  const watchdog = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          watchdog.abort();
          reject(failed(`nothing arrived for ${Math.round(stallMs / 1000)} s`));
        }, stallMs);
      };
      arm();
      resolveModelFile(source, {
        directory: cacheDir,
        cli: false,
        signal: watchdog.signal,
        onProgress: ({ totalSize, downloadedSize }) => {
          arm();
          onProgress?.({ task: 'model-download', label: `Downloading ${source}`, fraction: totalSize ? downloadedSize / totalSize : null, done: false });
        },
      }).then(resolve, (cause: unknown) => reject(failed((cause as Error).message, cause)));
    });
  } finally {
    clearTimeout(timer);
  }
}

/** One request to a model URL, bounded in time: an unreachable or refusing server is named at once instead of retried forever. */
async function reachable(url: string, timeoutMs: number, failed: (reason: string, cause?: unknown) => Error): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    const inner = (cause as Error).cause as NodeJS.ErrnoException | undefined;
    const reason =
      (cause as Error).name === 'TimeoutError'
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : `${new URL(url).host} cannot be reached (${inner?.code ?? inner?.message ?? (cause as Error).message})`;
    throw failed(reason, cause);
  }
  // A missing or forbidden file is final; a server that does not do HEAD (405, 501) or is briefly
  // failing (5xx) is left to the download, whose stall timer still bounds it.
  if (response.status >= 400 && response.status < 500 && response.status !== 405)
    throw failed(`the server answered ${response.status} ${response.statusText}`.trim());
}
