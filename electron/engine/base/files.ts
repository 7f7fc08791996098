/**
 * Files that are either there whole or not at all: written under a scratch name in the target's
 * own folder (so the rename stays on one filesystem and is atomic), flushed to disk, renamed, and
 * the folder flushed so the rename itself survives a crash. Also the streaming SHA-256 of a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, statfsSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export function scratchPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `chunks` to `path` atomically, into an existing folder; returns the file's SHA-256 and size. */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const scratch = scratchPath(path);
  try {
    const written = await writeAndSync(scratch, chunks);
    await rename(scratch, path);
    await syncFolder(dirname(path));
    return written;
  } catch (error) {
    await rm(scratch, { force: true });
    throw error;
  }
}

/** Copies `source` to a flushed scratch file beside `target`'s future place, hashing it on the way. */
export async function copyToScratch(source: string, targetFolder: string): Promise<{ scratch: string; sha256: string; bytes: number }> {
  await mkdir(targetFolder, { recursive: true });
  const scratch = scratchPath(join(targetFolder, basename(source)));
  try {
    return { scratch, ...(await writeAndSync(scratch, createReadStream(source) as AsyncIterable<Buffer>)) };
  } catch (error) {
    await rm(scratch, { force: true });
    throw error;
  }
}

async function writeAndSync(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const handle = await open(path, 'wx');
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Makes a rename in `folder` durable; platforms that cannot open folders (Windows) skip it. */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Best effort: the data itself is already flushed.
  } finally {
    await handle?.close();
  }
}

/**
 * Kernel file systems a data folder can never live on (their magic numbers, statfs(2)): creating
 * folders there fails, and Node's recursive mkdir spins forever on /proc instead of failing.
 */
const pseudoFileSystems = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
]);

export class FolderError extends Error {
  override name = 'FolderError';
}

/**
 * Creates `dir` and its missing parents one level at a time (never `mkdir -p`, which loops
 * forever on /proc in Node 20, deaf even to SIGTERM), after checking the deepest existing parent
 * is a folder on a real file system. Throws a FolderError naming what is wrong.
 */
export function makeFolderSync(dir: string): void {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    let stats;
    try {
      stats = statSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new FolderError(`${current} cannot be examined (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      const parent = dirname(current);
      if (parent === current) throw new FolderError(`no part of ${dir} exists`);
      missing.push(current);
      current = parent;
      continue;
    }
    if (!stats.isDirectory()) throw new FolderError(`${current} is a file, not a folder`);
    break;
  }
  const kind = pseudoFileSystems.get(statfsSync(current).type);
  if (kind) throw new FolderError(`${current} is on the kernel's ${kind} file system, where no data can be kept`);
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new FolderError(`${folder} cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
}
