/**
 * The bounded metadata scan behind stack detection. Unlike the indexer's walker, which must see
 * every file, detection only needs the shape of a project: which manifests and marker files
 * exist, where, and what the extensions are. So the scan is breadth-first (the files that name a
 * project sit near its top), stops at a depth and an entry budget instead of walking everything,
 * never follows a symlink, and reads nothing but the manifests it is asked for, each up to a size
 * cap. What the limits cut off is reported as `truncated`, never as an error.
 */
import { constants, type Dir, type Stats } from 'node:fs';
import { lstat, open, opendir, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cancelled, RequestError } from '../../../shared/errors.js';

export interface ScanLimits {
  maxDepth: number;
  maxEntries: number;
  maxEntriesPerFolder: number;
  signal: AbortSignal | undefined;
}

/** What the scan records besides counts: detection asks for the names it has rules about. */
export interface Watch {
  file(relativePath: string, name: string): boolean;
  folder(name: string): boolean;
  /** Exact names looked up directly in a folder whose listing was cut short, so a manifest there is not missed. */
  probe: readonly string[];
}

export interface Scan {
  scannedFiles: number;
  truncated: boolean;
  /** Lower-case extension with its dot → number of files. */
  extensions: Map<string, number>;
  /** Project-relative paths ('/'-separated) of watched files, shallowest first. */
  files: string[];
  /** Project-relative paths of watched folders. */
  folders: Set<string>;
}

/**
 * Folders that never tell what a project is and can dwarf it: dependencies, virtualenvs, build
 * output. Hidden folders (.git, .venv, .next, .tox, .gradle …) are skipped by their dot.
 */
const skippedFolders = new Set([
  'node_modules',
  'bower_components',
  'jspm_packages',
  'vendor',
  'third_party',
  'venv',
  'virtualenv',
  'site-packages',
  '__pycache__',
  'dist',
  'build',
  'out',
  'target',
  'coverage',
  'htmlcov',
  'Pods',
  'DerivedData',
]);

/** Longer "extensions" are names with a dot in them (`v1.backup-old`), not file types. */
const maxExtensionLength = 12;

interface Folder {
  absolutePath: string;
  /** '' for the root. */
  relativePath: string;
  depth: number;
}

/** The absolute path of a root that exists and is a folder; anything else is the caller's mistake. */
export async function checkRoot(root: string): Promise<string> {
  const rootPath = resolve(root);
  let rootStat: Stats;
  try {
    rootStat = await stat(rootPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') {
      throw new RequestError('NOT_FOUND', `The project folder ${rootPath} does not exist.`, {
        fix: 'Check the path, or open the project folder again.',
        cause: error,
      });
    }
    throw unreadableRoot(rootPath, error);
  }
  if (!rootStat.isDirectory()) {
    throw new RequestError('REQUEST_INVALID', `${rootPath} is a file, not a project folder.`, { fix: 'Choose the folder that contains the project.' });
  }
  return rootPath;
}

export async function scanProject(rootPath: string, limits: ScanLimits, watch: Watch): Promise<Scan> {
  const scan: Scan = { scannedFiles: 0, truncated: false, extensions: new Map(), files: [], folders: new Set() };
  let entries = 0;
  const queue: Folder[] = [{ absolutePath: rootPath, relativePath: '', depth: 0 }];
  for (let head = 0; head < queue.length; head++) {
    if (limits.signal?.aborted) throw cancelled('Project detection was cancelled.');
    if (entries >= limits.maxEntries) {
      scan.truncated = true;
      break;
    }
    const folder = queue[head]!;
    let dir: Dir;
    try {
      dir = await opendir(folder.absolutePath, { bufferSize: 256 });
    } catch (error) {
      if (folder.depth === 0) throw unreadableRoot(rootPath, error);
      // A subfolder that vanished or is unreadable just contributes nothing.
      if (errorCode(error) === undefined) throw error;
      continue;
    }
    const subfolders: string[] = [];
    const watched = new Set<string>();
    let isVirtualenv = false;
    let listed = 0;
    let cut = false;
    for await (const entry of dir) {
      if (entries >= limits.maxEntries || listed >= limits.maxEntriesPerFolder) {
        cut = true;
        break;
      }
      entries++;
      listed++;
      const { name } = entry;
      // Symlinks and special files count against the budget but are neither followed nor read.
      if (entry.isDirectory()) {
        if (!isSkippedFolder(name)) subfolders.push(name);
      } else if (entry.isFile()) {
        scan.scannedFiles++;
        countExtension(scan.extensions, name);
        if (name === 'pyvenv.cfg') isVirtualenv = true;
        if (watch.file(childPath(folder, name), name)) watched.add(name);
      }
    }
    if (cut) {
      scan.truncated = true;
      for (const name of await probeFiles(folder, watch, watched)) watched.add(name);
    }
    // A virtualenv under any name: its packages' metadata would describe the dependencies, not the project.
    if (isVirtualenv && folder.depth > 0) continue;
    for (const name of watched) scan.files.push(childPath(folder, name));
    for (const name of subfolders) {
      const relativePath = childPath(folder, name);
      if (watch.folder(name)) scan.folders.add(relativePath);
      if (folder.depth < limits.maxDepth) {
        queue.push({ absolutePath: join(folder.absolutePath, name), relativePath, depth: folder.depth + 1 });
      } else {
        scan.truncated = true;
      }
    }
  }
  return scan;
}

async function probeFiles(folder: Folder, watch: Watch, alreadySeen: ReadonlySet<string>): Promise<string[]> {
  const missing = watch.probe.filter((name) => !alreadySeen.has(name));
  const found = await Promise.all(
    missing.map(async (name) => {
      try {
        return (await lstat(join(folder.absolutePath, name))).isFile() ? name : undefined;
      } catch (error) {
        if (errorCode(error) === undefined) throw error;
        return undefined;
      }
    }),
  );
  return found.filter((name) => name !== undefined);
}

function childPath(folder: Folder, name: string): string {
  return folder.relativePath === '' ? name : `${folder.relativePath}/${name}`;
}

function isSkippedFolder(name: string): boolean {
  return name.startsWith('.') || skippedFolders.has(name) || name.endsWith('.egg-info');
}

function countExtension(extensions: Map<string, number>, name: string): void {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || name.length - dot > maxExtensionLength) return;
  const extension = name.slice(dot).toLowerCase();
  extensions.set(extension, (extensions.get(extension) ?? 0) + 1);
}

export type ManifestText = { text: string } | { problem: string };

/**
 * A manifest's text, or why it was not read. Opened without following symlinks (the scan already
 * refused to) and non-blocking, so a FIFO put in a manifest's place cannot hang detection.
 */
export async function readManifestText(absolutePath: string, maxBytes: number): Promise<ManifestText> {
  let handle: FileHandle;
  try {
    handle = await open(absolutePath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    return { problem: `not read: ${describeFsError(error)}` };
  }
  try {
    const fileStat = await handle.stat();
    if (!fileStat.isFile()) return { problem: 'not read: no longer a regular file' };
    if (fileStat.size > maxBytes) return { problem: `not read: ${fileStat.size} bytes, over the ${maxBytes}-byte limit` };
    // One byte past the size seen tells a file that is being written; its text would be cut anywhere.
    const bytes = await readAtMost(handle, fileStat.size + 1);
    if (bytes.length > fileStat.size) return { problem: 'not read: it was being written during the scan' };
    if (bytes.includes(0)) return { problem: 'not read: binary content (NUL bytes)' };
    return { text: new TextDecoder('utf-8').decode(bytes) };
  } catch (error) {
    return { problem: `not read: ${describeFsError(error)}` };
  } finally {
    await handle.close();
  }
}

/** Reads until end of file or `limit` bytes, whichever comes first. */
async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(limit);
  let length = 0;
  while (length < limit) {
    const { bytesRead } = await handle.read(buffer, length, limit - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** File-system failures become a note on the manifest; anything else is a bug and is thrown. */
function describeFsError(error: unknown): string {
  const code = errorCode(error);
  switch (code) {
    case undefined:
      throw error;
    case 'ELOOP':
      return 'a symlink, not followed';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'it vanished during the scan';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return code;
  }
}

function unreadableRoot(rootPath: string, cause: unknown): RequestError {
  return new RequestError('REQUEST_INVALID', `The project folder ${rootPath} cannot be read (${describeFsError(cause)}).`, {
    fix: 'Give your user read permission on the folder, or choose another one.',
    cause,
  });
}
