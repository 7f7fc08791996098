/**
 * Project stack detection from metadata only: a bounded scan of names (signals.ts), the
 * manifests' declarations (manifests.ts), per-stack rules turning both into weighted evidence
 * (stacks.ts), and noisy-OR with frameworks ranked before their languages (rank.ts). Source code
 * is never opened, so detection is fast on any tree and cannot be misled by what code merely
 * mentions; the result is a proposal the user confirms.
 */
import { join } from 'node:path';
import { RequestError } from '../../../shared/errors.js';
import { manifestKind, parseManifest, unreadManifest, type Manifest } from './manifests.js';
import { rankStacks } from './rank.js';
import { checkRoot, readManifestText, scanProject } from './signals.js';
import { collectEvidence, watch } from './stacks.js';
import type { ContextProposal, DetectOptions } from './types.js';

export function defaults(): DetectOptions {
  return {
    maxDepth: 4,
    maxEntries: 20_000,
    maxEntriesPerFolder: 5_000,
    maxManifestBytes: 256 * 1024,
    maxManifests: 500,
    topExtensions: 10,
    minConfidence: 0.3,
    signal: undefined,
  };
}

/** Manifests are small: reading this many at once overlaps their syscalls without a burst of open files. */
const readBatch = 16;

/**
 * What `root` is built with. Throws a RequestError when it is missing or not a readable folder;
 * anything inside it that cannot be read only lowers the confidence, with a note in the evidence.
 */
export async function detectContext(root: string, options: Partial<DetectOptions> = {}): Promise<ContextProposal> {
  const started = performance.now();
  const settings = checkOptions({ ...defaults(), ...options });
  const rootPath = await checkRoot(root);
  const scan = await scanProject(rootPath, settings, watch);
  const manifestPaths = scan.files.filter((path) => manifestKind(path) !== undefined);
  const manifests = await readManifests(rootPath, manifestPaths.slice(0, settings.maxManifests), settings.maxManifestBytes);
  const stacks = rankStacks(collectEvidence(scan, manifests), settings.minConfidence);
  return {
    root: rootPath,
    stacks,
    scannedFiles: scan.scannedFiles,
    truncated: scan.truncated || manifestPaths.length > settings.maxManifests,
    elapsedMs: Math.round((performance.now() - started) * 100) / 100,
    extensions: topExtensions(scan.extensions, settings.topExtensions),
  };
}

async function readManifests(rootPath: string, paths: readonly string[], maxBytes: number): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (let start = 0; start < paths.length; start += readBatch) {
    const batch = paths.slice(start, start + readBatch);
    const texts = await Promise.all(batch.map((path) => readManifestText(join(rootPath, path), maxBytes)));
    for (const [index, path] of batch.entries()) {
      const kind = manifestKind(path)!;
      const read = texts[index]!;
      manifests.push('text' in read ? parseManifest(path, kind, read.text) : unreadManifest(path, kind, read.problem));
    }
  }
  return manifests;
}

/** Most frequent first; equal counts alphabetically, so the same tree always gives the same record. */
function topExtensions(extensions: ReadonlyMap<string, number>, count: number): Record<string, number> {
  const sorted = [...extensions].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : 1));
  return Object.fromEntries(sorted.slice(0, count));
}

function checkOptions(options: DetectOptions): DetectOptions {
  const wholeNumbers: [NumericOption, number][] = [
    ['maxDepth', 0],
    ['maxEntries', 1],
    ['maxEntriesPerFolder', 1],
    ['maxManifestBytes', 1],
    ['maxManifests', 0],
    ['topExtensions', 0],
  ];
  for (const [name, least] of wholeNumbers) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value < least) {
      throw invalidOption(name, `a whole number of at least ${least}`, value);
    }
  }
  if (!(options.minConfidence >= 0 && options.minConfidence <= 1)) throw invalidOption('minConfidence', 'a number from 0 to 1', options.minConfidence);
  return options;
}

type NumericOption = Exclude<keyof DetectOptions, 'signal'>;

function invalidOption(name: NumericOption, expected: string, value: number): RequestError {
  return new RequestError('REQUEST_INVALID', `Context detection option ${name} must be ${expected}, got ${value}.`, {
    fix: `Leave ${name} unset for its default (${defaults()[name]}).`,
  });
}
