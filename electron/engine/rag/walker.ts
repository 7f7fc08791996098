/**
 * The walker decides which files of a project retrieval may read: what git would not ignore
 * (every `.gitignore`, `.git/info/exclude`), minus what is never source (dependencies, virtualenvs,
 * build output, lock files, binaries), minus secrets, minus what is too large. It streams: memory
 * holds the listing of the folders on the current path and one set of visited folder ids, so a
 * project of any size walks in bounded memory, and a file that changes meanwhile is reported, not
 * thrown. `readProjectFile` (read-file.ts) then re-checks what only the content can tell: binary,
 * encoding, secrets by shape.
 */
import type { BigIntStats, Dirent, Stats } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { cancelled, RequestError } from '../../../shared/errors.js';
import { secretFileKind } from '../secrets/secrets.js';
import type { SkipReason, WalkEntry } from './types.js';

export const defaultMaxFileBytes = 1024 * 1024;

export interface WalkOptions {
  maxFileBytes?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called once per path the walk leaves out; a skipped folder is reported, its contents are not. */
  onSkip?: ((reason: SkipReason, relativePath: string, detail: string) => void) | undefined;
}

const builtInFolders = new Map<string, string>([
  ['.git', 'version control'],
  ['.hg', 'version control'],
  ['.svn', 'version control'],
  ['node_modules', 'dependencies'],
  ['bower_components', 'dependencies'],
  ['vendor', 'vendored code'],
  ['third_party', 'vendored code'],
  ['.venv', 'virtualenv'],
  ['venv', 'virtualenv'],
  ['__pycache__', 'Python cache'],
  ['.tox', 'Python cache'],
  ['.mypy_cache', 'Python cache'],
  ['.pytest_cache', 'Python cache'],
  ['dist', 'build output'],
  ['build', 'build output'],
  ['out', 'build output'],
  ['target', 'build output'],
  ['.next', 'build output'],
  ['.nuxt', 'build output'],
  ['coverage', 'build output'],
  ['.cache', 'build output'],
]);

const builtInFiles = new Map<string, string>([
  ['.git', 'version control'],
  ['.DS_Store', 'folder metadata'],
  ...[
    'package-lock.json',
    'npm-shrinkwrap.json',
    'yarn.lock',
    'pnpm-lock.yaml',
    'bun.lockb',
    'poetry.lock',
    'Pipfile.lock',
    'pdm.lock',
    'uv.lock',
    'Cargo.lock',
    'composer.lock',
    'Gemfile.lock',
    'go.sum',
    'flake.lock',
    'pubspec.lock',
    'mix.lock',
  ].map((name): [string, string] => [name, 'lock file']),
]);

const generatedSuffixes = ['.min.js', '.min.mjs', '.min.css', '.map'];

const binaryExtensions = new Set(
  (
    'png jpg jpeg gif bmp ico icns tif tiff webp avif heic psd xcf ' +
    'ttf otf woff woff2 eot ' +
    'zip tar gz tgz bz2 xz zst lz4 7z rar jar war ear apk aar deb rpm dmg iso whl egg nupkg gem ' +
    'mp3 mp4 m4a wav ogg flac aac mov avi mkv webm wmv ' +
    'so dylib dll exe bin o a lib obj pdb class pyc pyo pyd wasm node ' +
    'gguf onnx safetensors pt pth ckpt h5 tflite pb npy npz parquet arrow feather pkl pickle sqlite sqlite3 db ' +
    'pdf doc docx xls xlsx ppt pptx odt'
  )
    .split(' ')
    .map((extension) => `.${extension}`),
);

/** Several listings are stat'ed at once so the thread pool overlaps the syscalls; more buys nothing on 2 cores. */
const statBatch = 64;

// Git's own default: case-sensitive where the file system is.
const ignoreCase = process.platform === 'darwin' || process.platform === 'win32';

/**
 * One ignore file. `rules` is compiled once; each batch of entries tests through a fresh view of
 * it, because `ignore` caches every path it has answered and one instance for a whole project
 * would keep a result per file.
 */
interface Matcher {
  rules: Ignore;
  /** Project-relative path of the ignore file, for skip reports. */
  source: string;
  /** Length of the prefix that turns a project-relative path into one relative to the ignore file's folder. */
  strip: number;
}

interface Folder {
  absolutePath: string;
  /** '' for the root. */
  relativePath: string;
  /** Shallowest first; within a folder `.git/info/exclude` before `.gitignore`, as git ranks them. */
  matchers: readonly Matcher[];
}

type Kind = 'file' | 'dir';

/** An entry of a folder listing; paths are built only for the batch being processed, as a listing can hold 100,000 entries. */
interface Listed {
  name: string;
  kind: Kind;
  /** Already known for symlinked files, whose target had to be stat'ed to learn its kind. */
  stat?: Stats;
  /** Set when the entry is ruled out before its turn; reported in sorted order with the rest. */
  skip?: Skip | undefined;
}

interface Candidate extends Listed {
  relativePath: string;
  absolutePath: string;
}

export interface Skip {
  reason: SkipReason;
  detail: string;
}

interface Listing {
  entries: Listed[];
  isVirtualenv: boolean;
  hasGit: boolean;
  hasGitignore: boolean;
}

/**
 * Project files that may be indexed, in a deterministic order: sorted by `relativePath`
 * (UTF-16 code units, as JavaScript compares strings), across folders too, so a walk can be
 * merged against a sorted index in one pass.
 */
export async function* walkProject(root: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const maxFileBytes = checkMaxFileBytes(options.maxFileBytes);
  const { signal } = options;
  const report = options.onSkip ?? (() => undefined);
  const rootPath = resolve(root);
  /** Folder id (device:inode) → the path it was walked under: symlinks must not walk a folder twice or forever. */
  const walked = new Map<string, string>([[await statRoot(rootPath), '']]);
  // Symlinks are followed only to where they really lead, which must be inside this folder: the
  // root was checked against the allowed roots, a link inside it to /etc or ~/.ssh never was.
  const realRoot = await realpath(rootPath);

  async function* walkFolder(folder: Folder): AsyncGenerator<WalkEntry> {
    if (signal?.aborted) throw cancelled('Indexing was cancelled.');
    const listing = await listFolder(folder, realRoot);
    if ('reason' in listing) {
      if (folder.relativePath === '') throw unreadableRoot(rootPath, listing.detail);
      report(listing.reason, folder.relativePath, listing.detail);
      return;
    }
    if (folder.relativePath !== '' && listing.isVirtualenv) {
      report('ignored', folder.relativePath, 'built-in: virtualenv (pyvenv.cfg)');
      return;
    }
    const matchers = [...folder.matchers];
    if (listing.hasGit) await addMatcher(matchers, folder, '.git/info/exclude');
    if (listing.hasGitignore) await addMatcher(matchers, folder, '.gitignore');
    const { entries } = listing;

    for (let start = 0; start < entries.length; start += statBatch) {
      const batch = entries.slice(start, start + statBatch).map((listed): Candidate => ({ ...listed, ...pathsOf(folder, listed.name) }));
      const views = matchers.map((matcher) => ignore({ ignoreCase }).add(matcher.rules));
      const outcomes = await Promise.all(batch.map((candidate) => outcomeOf(candidate, matchers, views)));
      for (const [index, candidate] of batch.entries()) {
        if (signal?.aborted) throw cancelled('Indexing was cancelled.');
        const outcome = outcomes[index]!;
        if (typeof outcome === 'object' && 'reason' in outcome) {
          report(outcome.reason, candidate.relativePath, outcome.detail);
        } else if (typeof outcome === 'object') {
          if (outcome.size > maxFileBytes) {
            report('too-large', candidate.relativePath, `${outcome.size} bytes, over the ${maxFileBytes}-byte limit`);
            continue;
          }
          yield { relativePath: candidate.relativePath, absolutePath: candidate.absolutePath, size: outcome.size, mtimeMs: outcome.mtimeMs, root: realRoot };
        } else {
          const seenAs = walked.get(outcome);
          if (seenAs !== undefined) {
            const loops = seenAs === '' || candidate.relativePath.startsWith(`${seenAs}/`);
            report(
              'symlink-loop',
              candidate.relativePath,
              loops ? `leads back to ${seenAs || 'the project root'}` : `same folder as ${seenAs}, already walked`,
            );
            continue;
          }
          walked.set(outcome, candidate.relativePath);
          yield* walkFolder({
            absolutePath: candidate.absolutePath,
            relativePath: candidate.relativePath,
            matchers: matchersInside(candidate, matchers, views),
          });
        }
      }
    }
  }

  async function addMatcher(matchers: Matcher[], folder: Folder, file: string): Promise<void> {
    const source = folder.relativePath === '' ? file : `${folder.relativePath}/${file}`;
    let text: string;
    try {
      text = await readFile(join(folder.absolutePath, file), 'utf8');
    } catch (error) {
      // Most repositories have no info/exclude, and a `.git` file (worktree, submodule) none at all.
      const skip = skipFor(error);
      if (skip.reason !== 'vanished') report(skip.reason, source, `ignore file not applied: ${skip.detail}`);
      return;
    }
    matchers.push({ rules: ignore({ ignoreCase }).add(text), source, strip: folder.relativePath === '' ? 0 : folder.relativePath.length + 1 });
  }

  yield* walkFolder({ absolutePath: rootPath, relativePath: '', matchers: [] });
}

/**
 * One folder's entries, sorted, with their kinds: symlinks are followed first because sorting
 * and ignore rules both depend on whether an entry is a folder. Kept apart from the walk so the
 * raw listing is garbage once the walk descends.
 */
async function listFolder(folder: Folder, realRoot: string): Promise<Listing | Skip> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(folder.absolutePath, { withFileTypes: true });
  } catch (error) {
    return skipFor(error);
  }
  const listing: Listing = { entries: [], isVirtualenv: false, hasGit: false, hasGitignore: false };
  const links: Listed[] = [];
  for (const dirent of dirents) {
    const { name } = dirent;
    if (name === 'pyvenv.cfg') listing.isVirtualenv = true;
    if (name === '.git') listing.hasGit = true;
    if (name === '.gitignore') listing.hasGitignore = true;
    const listed: Listed = { name, kind: dirent.isDirectory() ? 'dir' : 'file' };
    if (dirent.isSymbolicLink()) links.push(listed);
    else if (!dirent.isFile() && !dirent.isDirectory()) listed.skip = { reason: 'ignored', detail: 'not a regular file' };
    listing.entries.push(listed);
  }
  for (let start = 0; start < links.length; start += statBatch) {
    await Promise.all(links.slice(start, start + statBatch).map((link) => followLink(link, join(folder.absolutePath, link.name), realRoot)));
  }
  listing.entries.sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
  return listing;
}

/** `path` is `root` or lies under it (both canonical). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function pathsOf(folder: Folder, name: string): { relativePath: string; absolutePath: string } {
  return { relativePath: folder.relativePath === '' ? name : `${folder.relativePath}/${name}`, absolutePath: join(folder.absolutePath, name) };
}

async function followLink(link: Listed, absolutePath: string, realRoot: string): Promise<void> {
  try {
    const [target, realPath] = await Promise.all([stat(absolutePath), realpath(absolutePath)]);
    if (!isInside(realRoot, realPath)) {
      link.kind = target.isDirectory() ? 'dir' : 'file';
      link.skip = { reason: 'outside-project', detail: `symlink to ${realPath}, outside the project` };
    } else if (target.isDirectory()) {
      link.kind = 'dir';
    } else if (!target.isFile()) {
      link.skip = { reason: 'ignored', detail: 'symlink to something other than a file or folder' };
    } else {
      link.stat = target;
      // A harmless name can point at ~/.ssh/id_rsa.
      const targetSecret = secretFileKind(realPath.split(sep).join('/'));
      if (targetSecret) link.skip = { reason: 'secret', detail: `symlink to a ${targetSecret}` };
    }
  } catch (error) {
    link.skip = isMissing(error) ? { reason: 'unreadable', detail: 'broken symlink' } : skipFor(error);
  }
}

/** A skip, a file's stats or a folder's id. */
async function outcomeOf(candidate: Candidate, matchers: readonly Matcher[], views: readonly Ignore[]): Promise<Skip | Stats | string> {
  const skip = candidate.skip ?? skipByName(candidate, matchers, views);
  if (skip) return skip;
  if (candidate.kind === 'dir') return folderIdOrSkip(candidate.absolutePath);
  return candidate.stat ?? fileStatOrSkip(candidate.absolutePath);
}

/** Name, place and ignore files decide before any syscall is spent on the entry. */
function skipByName(candidate: Candidate, matchers: readonly Matcher[], views: readonly Ignore[]): Skip | undefined {
  const { name, kind } = candidate;
  if (kind === 'file') {
    const secret = secretFileKind(candidate.relativePath);
    if (secret) return { reason: 'secret', detail: `${secret} (by name)` };
  }
  const builtIn = kind === 'dir' ? (builtInFolders.get(name) ?? (name.endsWith('.egg-info') ? 'build output' : undefined)) : builtInFiles.get(name);
  if (builtIn) return { reason: 'ignored', detail: `built-in: ${builtIn}` };
  if (kind === 'file') {
    const lower = name.toLowerCase();
    if (generatedSuffixes.some((suffix) => lower.endsWith(suffix))) return { reason: 'ignored', detail: 'built-in: minified or generated' };
    const dot = lower.lastIndexOf('.');
    if (dot > 0 && binaryExtensions.has(lower.slice(dot))) return { reason: 'binary', detail: `by extension (${lower.slice(dot)})` };
  }
  const verdict = ignoreVerdict(candidate, matchers, views);
  if (verdict?.ignored) return { reason: 'ignored', detail: `${verdict.source}: ${verdict.pattern}` };
  return undefined;
}

interface Verdict {
  ignored: boolean;
  /** Index of the matcher that decided. */
  at: number;
  source: string;
  pattern: string;
}

/** Deeper ignore files override shallower ones; within one file the last matching rule wins. */
function ignoreVerdict(candidate: Candidate, matchers: readonly Matcher[], views: readonly Ignore[]): Verdict | undefined {
  for (let at = matchers.length - 1; at >= 0; at--) {
    const matcher = matchers[at]!;
    const result = views[at]!.test(localPath(candidate, matcher));
    if (result.ignored || result.unignored) {
      return { ignored: result.ignored, at, source: matcher.source, pattern: result.rule?.pattern ?? '' };
    }
  }
  return undefined;
}

/**
 * A folder a deeper `.gitignore` re-included (`!dist/`) is still ignored in the eyes of the
 * shallower file that excluded it, and `ignore` passes a folder's exclusion down to everything
 * in it. Git only lets that shallower file's rules speak for the contents themselves (`*.log`
 * still applies inside), so inside the folder the shallower file gets a rule re-including it.
 */
function matchersInside(folder: Candidate, matchers: readonly Matcher[], views: readonly Ignore[]): readonly Matcher[] {
  const verdict = ignoreVerdict(folder, matchers, views);
  if (!verdict) return matchers;
  return matchers.map((matcher, at) => {
    if (at >= verdict.at) return matcher;
    const local = localPath(folder, matcher);
    if (!views[at]!.test(local).ignored) return matcher;
    return {
      ...matcher,
      rules: ignore({ ignoreCase })
        .add(matcher.rules)
        .add(`!/${literalPattern(local)}`),
    };
  });
}

function localPath(candidate: Candidate, matcher: Matcher): string {
  const path = candidate.relativePath.slice(matcher.strip);
  return candidate.kind === 'dir' ? `${path}/` : path;
}

function literalPattern(path: string): string {
  return path.replace(/[\\*?[\]]/g, '\\$&');
}

function sortKey(listed: Listed): string {
  return listed.kind === 'dir' ? `${listed.name}/` : listed.name;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function fileStatOrSkip(path: string): Promise<Stats | Skip> {
  try {
    return await stat(path);
  } catch (error) {
    return skipFor(error);
  }
}

/** Device and inode, as bigints: inode numbers can exceed what a double holds exactly. */
async function folderIdOrSkip(path: string): Promise<string | Skip> {
  try {
    const folderStat = await stat(path, { bigint: true });
    return `${folderStat.dev}:${folderStat.ino}`;
  } catch (error) {
    return skipFor(error);
  }
}

/** The root's folder id; a root that is missing or not a folder is the caller's mistake, not a skip. */
async function statRoot(rootPath: string): Promise<string> {
  let rootStat: BigIntStats;
  try {
    rootStat = await stat(rootPath, { bigint: true });
  } catch (error) {
    if (isMissing(error)) {
      throw new RequestError('NOT_FOUND', `The project folder ${rootPath} does not exist.`, {
        fix: 'Check the path, or open the project folder again.',
        cause: error,
      });
    }
    throw unreadableRoot(rootPath, skipFor(error).detail, error);
  }
  if (!rootStat.isDirectory()) {
    throw new RequestError('REQUEST_INVALID', `${rootPath} is a file, not a project folder.`, { fix: 'Choose the folder that contains the project.' });
  }
  return `${rootStat.dev}:${rootStat.ino}`;
}

function unreadableRoot(rootPath: string, detail: string, cause?: unknown): RequestError {
  return new RequestError('REQUEST_INVALID', `The project folder ${rootPath} cannot be read (${detail}).`, {
    fix: 'Give your user read permission on the folder, or choose another one.',
    ...(cause === undefined ? {} : { cause }),
  });
}

export function checkMaxFileBytes(value: number | undefined): number {
  if (value === undefined) return defaultMaxFileBytes;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RequestError('REQUEST_INVALID', `maxFileBytes must be a positive whole number of bytes, got ${value}.`, {
      fix: `Leave it unset for the default of ${defaultMaxFileBytes} bytes.`,
    });
  }
  return value;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** File-system failures on one path are reported and the walk goes on; anything else is a bug and is thrown. */
export function skipFor(error: unknown): Skip {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') throw error;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { reason: 'vanished', detail: 'no longer exists' };
    case 'ELOOP':
      return { reason: 'symlink-loop', detail: 'symlinks point at each other' };
    case 'EACCES':
    case 'EPERM':
      return { reason: 'unreadable', detail: 'permission denied' };
    default:
      return { reason: 'unreadable', detail: code };
  }
}
